import pytest

from training.plots import plot_loss


def test_loss_png_is_written_with_aux_axis(tmp_path):
    history = [{"step": s, "loss": 5.0 / s, "aux_loss": 2.0 + 0.01 * s} for s in range(1, 6)]
    path = plot_loss(history, tmp_path / "loss.png", title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_empty_history_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no logged losses"):
        plot_loss([], tmp_path / "loss.png")
