"""Attention layers."""

from kbridge.layers.attention.additive_attention import AdditiveAttention
from kbridge.layers.attention.attention import Attention
from kbridge.layers.attention.grouped_query_attention import GroupedQueryAttention
from kbridge.layers.attention.multi_head_attention import MultiHeadAttention

GroupQueryAttention = GroupedQueryAttention

__all__ = ["AdditiveAttention", "Attention", "GroupQueryAttention", "GroupedQueryAttention", "MultiHeadAttention"]
