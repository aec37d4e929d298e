"""The shipped zoo models give the same outputs whatever the model code's layout."""

from __future__ import annotations

import numpy as np
import pytest

from tests.models.zoo_reference import MODELS, REFERENCE, outputs


@pytest.mark.parametrize("name", MODELS)
def test_zoo_model_outputs_match_the_reference(name):
    reference = np.load(REFERENCE)
    for key, value in outputs(name).items():
        np.testing.assert_allclose(value, reference[key], rtol=1e-5, atol=1e-4, err_msg=key)
