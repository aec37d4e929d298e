"""Packaging glue that setup.cfg cannot express: top-level folders ship as package data.

- ``zoo/`` (the models, their index and ``recipes/*.yaml``, the training recipes) as
  ``keras_musiclatent.zoo_models``;
- ``tuning/searches/`` (the search definitions) as ``keras_musiclatent.searches``.

So ``musiclatent train gtzan-vae`` and ``musiclatent tune gtzan-vae`` resolve by name after a
plain ``pip install``.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["keras_musiclatent", "keras_musiclatent.*"]),
        "keras_musiclatent.zoo_models",
        "keras_musiclatent.searches",
    ],
    package_dir={
        "keras_musiclatent.zoo_models": "zoo",
        "keras_musiclatent.searches": "tuning/searches",
    },
    package_data={
        "keras_musiclatent.zoo_models": ["index.json", "*/*", "*/*/*"],
        "keras_musiclatent.searches": ["*.yaml", "*.yml", "*.json"],
    },
)
