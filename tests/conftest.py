import pytest
import torch


@pytest.fixture(autouse=True)
def _two_threads():
    """Tests run on 2-core machines; keep torch from oversubscribing them."""
    torch.set_num_threads(2)
    yield
