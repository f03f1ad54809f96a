"""Package discovery: `adapters/` is installed as `kbridge.adapters` (see DESIGN.md layout)."""
from setuptools import find_packages, setup

packages = find_packages(include=["kbridge", "kbridge.*"])
packages += ["kbridge.adapters"] + ["kbridge.adapters." + p for p in find_packages("adapters")]

setup(packages=packages, package_dir={"kbridge.adapters": "adapters"})
