"""Tests for vis.grid: grids checked against arrays built by hand with numpy.

The expected colours come from matplotlib's own colormap call (`cmap(t, bytes=True)`)
on values computed here, so the device-side lookup table is checked independently.
"""

import matplotlib
import numpy as np
import pytest
import torch

from vis.grid import (
    MIN_TILE,
    PAD_VALUE,
    PADDING,
    choose_channels,
    grid_shape,
    rank_channels,
    render_filters,
    render_grid,
    render_overlay,
)


def colours(name: str, t) -> np.ndarray:
    """matplotlib's RGB bytes for values t in [0, 1]."""
    rgba = matplotlib.colormaps[name](np.asarray(t, dtype=np.float64), bytes=True)
    return np.asarray(rgba)[..., :3]


def expected_grid(tiles: list[np.ndarray], rows: int, cols: int) -> np.ndarray:
    """Tiles (h×w×3) on a white canvas with PADDING pixels around each, row by row."""
    h, w = tiles[0].shape[:2]
    canvas = np.full(
        (rows * (h + PADDING) + PADDING, cols * (w + PADDING) + PADDING, 3),
        PAD_VALUE,
        dtype=np.uint8,
    )
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y, x = PADDING + r * (h + PADDING), PADDING + c * (w + PADDING)
        canvas[y : y + h, x : x + w] = tile
    return canvas


def enlarge(tile: np.ndarray, factor: int) -> np.ndarray:
    return tile.repeat(factor, axis=0).repeat(factor, axis=1)


# three 2×2 channels: means 1.5, 0.75 and 0 (dead)
MAPS = np.array(
    [
        [[0.0, 1.0], [2.0, 3.0]],
        [[0.0, 0.5], [1.0, 1.5]],
        [[0.0, 0.0], [0.0, 0.0]],
    ],
    dtype=np.float32,
)
FACTOR = MIN_TILE // 2  # 2×2 maps are enlarged to 48×48


def test_rank_by_mean_ties_to_lower_index() -> None:
    activation = torch.tensor([1.0, 3.0, 3.0, 0.0, 3.0]).view(5, 1, 1).expand(5, 2, 2)
    assert rank_channels(activation).tolist() == [1, 2, 4, 0, 3]
    assert choose_channels(activation, 2, "conv").tolist() == [1, 2]
    assert choose_channels(activation, "all", "conv").tolist() == [1, 2, 4, 0, 3]
    assert choose_channels(activation, 99, "conv").tolist() == [1, 2, 4, 0, 3]
    assert choose_channels(activation, (3, 0), "conv").tolist() == [3, 0]


def test_channel_beyond_count_names_layer_and_count() -> None:
    activation = torch.zeros(4, 2, 2)
    with pytest.raises(
        ValueError,
        match=r"^--channels 4 is beyond layer stages\.1's 4 channels \(0-3\); pick "
        r"indices below 4, or use --channels K",
    ):
        choose_channels(activation, (0, 4), "stages.1")


def test_layer_scale_shares_one_range() -> None:
    grid = render_grid(torch.from_numpy(MAPS), "relu", channels=3, scale="layer")
    assert grid.channels == [0, 1, 2]
    assert grid.cmap == "viridis" and not grid.signed
    assert (grid.vmin, grid.vmax) == (0.0, 3.0)
    assert grid.means == pytest.approx([1.5, 0.75, 0.0])
    assert grid.maxima == pytest.approx([3.0, 1.5, 0.0])

    tiles = [enlarge(colours("viridis", m / 3.0), FACTOR) for m in MAPS]
    assert (grid.rows, grid.cols) == (2, 2)  # 3 tiles: two rows of two, one gap
    np.testing.assert_array_equal(grid.image, expected_grid(tiles, 2, 2))


def test_channel_scale_ranges_each_channel_and_dead_is_flat() -> None:
    grid = render_grid(torch.from_numpy(MAPS), "relu", channels=3, scale="channel")
    expected = [
        colours("viridis", MAPS[0] / 3.0),
        colours("viridis", MAPS[1] / 1.5),  # its own max, not the layer's
        colours("viridis", np.zeros((2, 2))),  # dead: flat at the bottom, not NaN
    ]
    tiles = [enlarge(t, FACTOR) for t in expected]
    np.testing.assert_array_equal(grid.image, expected_grid(tiles, 2, 2))
    assert (grid.vmin, grid.vmax) == (0.0, 1.0)


def test_constant_layer_is_flat_not_nan() -> None:
    grid = render_grid(torch.full((2, 3, 3), 4.0), "dead", channels=2, scale="layer")
    tile = grid.image[
        PADDING : PADDING + grid.tile[0], PADDING : PADDING + grid.tile[1]
    ]
    assert (tile == colours("viridis", 0.0)).all()
    assert grid.means == [4.0, 4.0]
    activation = torch.zeros(2, 3, 3)
    activation[1] = -1.0  # a signed layer whose first channel is dead
    signed = render_grid(activation, "dead", channels=2, scale="channel")
    assert signed.channels == [0, 1]
    tile = signed.image[PADDING : PADDING + 48, PADDING : PADDING + 48]
    assert (tile == colours("RdBu_r", 0.5)).all()  # flat white: zero


def test_signed_layer_is_symmetric_around_zero() -> None:
    maps = np.array([[[-1.0, 0.0], [1.0, 2.0]]], dtype=np.float32)  # mean 0.5
    grid = render_grid(torch.from_numpy(maps), "project", channels=1)
    assert grid.cmap == "RdBu_r" and grid.signed
    assert (grid.vmin, grid.vmax) == (-2.0, 2.0)
    tile = enlarge(colours("RdBu_r", (maps[0] + 2.0) / 4.0), FACTOR)
    np.testing.assert_array_equal(grid.image, expected_grid([tile], 1, 1))


def test_one_and_seven_channels_tile_cleanly() -> None:
    one = render_grid(torch.rand(1, 6, 6), "one", channels=1)
    assert one.image.shape == (48 + 2 * PADDING, 48 + 2 * PADDING, 3)
    assert (one.rows, one.cols) == (1, 1)

    activation = torch.arange(7.0).view(7, 1, 1).expand(7, 4, 4).contiguous()
    seven = render_grid(activation, "seven", channels="all")
    assert (seven.rows, seven.cols) == (3, 3)
    assert seven.channels == [6, 5, 4, 3, 2, 1, 0]
    size = 3 * (MIN_TILE + PADDING) + PADDING
    assert seven.image.shape == (size, size, 3)
    # the two cells after the seventh tile are background
    x, y = seven.tile_origin(7)
    assert (seven.image[y:, x:] == PAD_VALUE).all()


@pytest.mark.parametrize(
    ("count", "aspect", "shape"),
    [(1, 1.0, (1, 1)), (7, 1.0, (3, 3)), (13, 1.0, (4, 4)), (16, 16 / 9, (3, 6))],
)
def test_grid_shape(count: int, aspect: float, shape: tuple[int, int]) -> None:
    assert grid_shape(count, aspect) == shape


def test_filters_symmetric_around_zero() -> None:
    weight = torch.zeros(2, 3, 1, 1)
    weight[0, :, 0, 0] = torch.tensor([0.5, -0.25, 0.0])  # largest |w| = 0.5
    weight[1, :, 0, 0] = torch.tensor([-2.0, 1.0, 2.0])  # largest |w| = 2
    image, cols = render_filters(weight, enlarge=1)
    assert cols == 2
    first = image[PADDING, PADDING]
    second = image[PADDING, 2 * PADDING + 1]
    expected_first = np.round((np.array([0.5, -0.25, 0.0]) / 1.0 + 0.5) * 255)
    expected_second = np.round((np.array([-2.0, 1.0, 2.0]) / 4.0 + 0.5) * 255)
    np.testing.assert_array_equal(first, expected_first)
    np.testing.assert_array_equal(second, expected_second)


def test_overlay_is_aligned_with_the_photo() -> None:
    activation = torch.zeros(1, 2, 2)
    activation[0, 0, 0] = 1.0  # only the top-left quarter fires
    photo = torch.full((3, 8, 8), 100, dtype=torch.uint8)
    grid = render_overlay(activation, photo, "relu", count=1, alpha=0.75)
    tile = grid.image[PADDING : PADDING + 8, PADDING : PADDING + 8].astype(int)
    # far from the hot cell the photo shows unchanged; at its corner the colour wins
    assert (tile[6:, 6:] == 100).all()
    assert (tile[:, 6:] == 100).all() and (tile[6:, :] == 100).all()
    top = colours("viridis", 1.0).astype(float)
    np.testing.assert_array_equal(tile[0, 0], np.round(100 * 0.25 + top * 0.75))
