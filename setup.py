"""Packaging glue that setup.cfg cannot express: the top-level zoo/ ships as package data."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["keras_musiclatent", "keras_musiclatent.*"]),
        "keras_musiclatent.zoo_models",
    ],
    package_dir={"keras_musiclatent.zoo_models": "zoo"},
    package_data={"keras_musiclatent.zoo_models": ["index.json", "*/*", "*/*/*"]},
)
