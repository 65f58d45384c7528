import pytest

from sweep.objective import stalled


@pytest.mark.parametrize(
    ("losses", "rounds", "expected"),
    [
        ([], 2, False),
        ([-0.5, -0.4], 2, False),  # not enough trials to tell
        ([-0.5, -0.4, -0.45], 2, True),  # two trials since the best, neither better
        ([-0.5, -0.4, -0.6], 2, False),  # the last one improved
        ([-0.5, -0.5, -0.5], 2, True),  # equal is not better
        ([-0.5, -0.4, -0.3, -0.2], 3, True),
        ([-0.5, -0.6, -0.4, -0.3], 3, False),  # the best is within the last three
    ],
)
def test_stalled(losses, rounds, expected):
    assert stalled(losses, rounds) is expected
