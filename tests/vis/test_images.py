"""Tests for vis.images: the photos people really have, and broken ones (issue 3).

Every photo is made in tmp_path with Pillow from a real photo (images/dog.jpg or a
scikit-image sample); the expected pixels come from Pillow or numpy directly.
"""

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageFile, ImageOps
from skimage import data

from vis.images import Photo, PhotoError, find_photos, load_photo

DOG = Path(__file__).resolve().parents[2] / "images" / "dog.jpg"


@pytest.fixture(scope="module")
def dog() -> Image.Image:
    with Image.open(DOG) as image:
        return image.convert("RGB")


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def check_rgb(photo: Photo, size: tuple[int, int]) -> None:
    assert photo.image.mode == "RGB"
    assert photo.image.size == size
    assert photo.original_size == size


def check_message(excinfo: pytest.ExceptionInfo, path: Path) -> None:
    message = str(excinfo.value)
    assert str(path) in message
    assert "\n" not in message


# --- photos that must load ---------------------------------------------------------


def test_rgb_jpeg(tmp_path: Path, dog: Image.Image) -> None:
    photo = load_photo(DOG)
    check_rgb(photo, (768, 576))
    assert photo.notes == []
    assert np.array_equal(pixels(photo.image), pixels(dog))


def test_grayscale_jpeg_is_replicated(tmp_path: Path) -> None:
    path = tmp_path / "camera.jpg"
    Image.fromarray(data.camera()).save(path)
    photo = load_photo(path)
    check_rgb(photo, (512, 512))
    with Image.open(path) as gray:
        expected = np.asarray(gray)
    assert gray.mode == "L"
    for channel in range(3):
        assert np.array_equal(np.asarray(photo.image)[..., channel], expected)


def test_rgba_png_composited_on_white(tmp_path: Path, dog: Image.Image) -> None:
    alpha = np.full((576, 768), 255, dtype=np.uint8)
    alpha[:, :100] = 0  # left strip fully transparent
    alpha[:, 100:200] = 128  # then half transparent
    rgba = dog.copy()
    rgba.putalpha(Image.fromarray(alpha))
    path = tmp_path / "dog.png"
    rgba.save(path)

    photo = load_photo(path)
    check_rgb(photo, (768, 576))
    assert photo.notes == ["transparent pixels composited on white"]
    assert photo.image.getpixel((10, 10)) == (255, 255, 255)
    assert photo.image.getpixel((700, 300)) == dog.getpixel((700, 300))
    colour = np.array(dog.getpixel((150, 300)))
    blended = colour * 128 / 255 + 255 * 127 / 255
    assert np.abs(np.array(photo.image.getpixel((150, 300))) - blended).max() <= 1


def test_palette_png(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "dog-palette.png"
    palette = dog.quantize(64)
    palette.save(path)
    photo = load_photo(path)
    check_rgb(photo, (768, 576))
    assert photo.notes == []
    assert np.array_equal(pixels(photo.image), pixels(palette.convert("RGB")))


def test_palette_png_with_transparency(tmp_path: Path, dog: Image.Image) -> None:
    palette = dog.quantize(64)
    index = palette.getpixel((0, 0))
    path = tmp_path / "dog-palette-transparent.png"
    palette.save(path, transparency=index)

    photo = load_photo(path)
    indices = np.asarray(palette)
    image = np.asarray(photo.image)
    assert photo.notes == ["transparent pixels composited on white"]
    assert (image[indices == index] == 255).all()
    kept = np.asarray(palette.convert("RGB"))[indices != index]
    assert np.array_equal(image[indices != index], kept)


def test_cmyk_jpeg(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "dog-cmyk.jpg"
    dog.convert("CMYK").save(path, quality=95)
    photo = load_photo(path)
    check_rgb(photo, (768, 576))
    assert photo.notes == ["CMYK converted to RGB"]
    assert np.abs(pixels(photo.image) - pixels(dog)).mean() < 3


def test_16_bit_png_is_scaled_not_saturated(tmp_path: Path) -> None:
    camera = data.camera()
    values = camera.astype(np.uint16) * 257  # 8-bit 255 -> 16-bit 65535
    values[0, 0] = 32768
    path = tmp_path / "camera16.png"
    Image.fromarray(values).save(path)
    with Image.open(path) as check:
        assert check.mode in ("I;16", "I")

    photo = load_photo(path)
    check_rgb(photo, (512, 512))
    assert photo.notes == ["16-bit PNG scaled by 65535 to 8-bit"]
    image = np.asarray(photo.image)
    assert tuple(image[0, 0]) == (128, 128, 128)  # 32768 / 65535 * 255 = 127.5
    expected = camera.copy()
    expected[0, 0] = 128
    assert np.array_equal(image[..., 1], expected)


def test_exif_orientation_applied_once(tmp_path: Path, dog: Image.Image) -> None:
    # a phone held upright stores the sensor image sideways with orientation 6:
    # "rotate 90 degrees clockwise to display", so the stored top-left corner
    # ends up at the top right
    stored = dog.copy()
    stored.paste((255, 0, 0), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    path = tmp_path / "phone.jpg"
    stored.save(path, exif=exif, quality=95)

    photo = load_photo(path)
    check_rgb(photo, (576, 768))
    assert photo.notes == ["EXIF orientation 6 applied: image turned upright"]
    red, green, blue = photo.image.getpixel((576 - 20, 20))
    assert red > 200 and green < 60 and blue < 60
    with Image.open(path) as raw:
        expected = raw.convert("RGB").transpose(Image.Transpose.ROTATE_270)
    assert np.array_equal(pixels(photo.image), pixels(expected))
    # the tag is gone, so a second exif_transpose downstream changes nothing
    assert ExifTags.Base.Orientation not in photo.image.getexif()
    assert ImageOps.exif_transpose(photo.image).size == (576, 768)


def test_webp(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "dog.webp"
    dog.save(path, lossless=True)
    photo = load_photo(path)
    check_rgb(photo, (768, 576))
    assert np.array_equal(pixels(photo.image), pixels(dog))


def test_one_pixel(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "pixel.png"
    dog.crop((300, 300, 301, 301)).save(path)
    photo = load_photo(path)
    check_rgb(photo, (1, 1))
    assert photo.image.getpixel((0, 0)) == dog.getpixel((300, 300))


def test_4000_by_3000_photo(tmp_path: Path, dog: Image.Image) -> None:
    path = tmp_path / "big.jpg"
    dog.resize((4000, 3000), Image.Resampling.NEAREST).save(path)
    photo = load_photo(path)
    check_rgb(photo, (4000, 3000))
    assert photo.notes == []


def test_animated_gif_uses_first_frame(tmp_path: Path) -> None:
    frames = [
        Image.fromarray(sample()).resize((200, 150))
        for sample in (data.coffee, data.chelsea, data.rocket)
    ]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)

    photo = load_photo(path)
    check_rgb(photo, (200, 150))
    assert photo.notes == ["animated GIF: using frame 1 of 3"]
    with Image.open(path) as gif:
        first = gif.convert("RGB")
        gif.seek(1)
        second = gif.convert("RGB")
    assert np.array_equal(pixels(photo.image), pixels(first))
    assert not np.array_equal(pixels(photo.image), pixels(second))


def test_name_with_spaces_and_non_ascii(tmp_path: Path, dog: Image.Image) -> None:
    folder = tmp_path / "mes photos"
    folder.mkdir()
    path = folder / "voiture rouge é 車.jpg"
    dog.save(path)
    paths, errors = find_photos([folder])
    assert (paths, errors) == ([path], [])
    photo = load_photo(paths[0])
    assert photo.path == path
    check_rgb(photo, (768, 576))


# --- finding photos -----------------------------------------------------------------


def test_find_photos_expands_folders_in_order(tmp_path: Path, dog: Image.Image) -> None:
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    for name in ("b.PNG", "a.jpg", ".hidden.jpg", "nested/c.jpg"):
        dog.save(folder / name)
    (folder / "notes.txt").write_text("not a photo")
    single = tmp_path / "z.webp"
    dog.save(single)
    missing = tmp_path / "missing.jpg"

    paths, errors = find_photos([str(single), folder, missing])
    assert paths == [single, folder / "a.jpg", folder / "b.PNG"]
    assert len(errors) == 1
    assert (
        str(errors[0])
        == f"{missing}: no such file or folder; check the path and spelling"
    )


# --- broken input ---------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.jpg"
    with pytest.raises(PhotoError, match="no such file; check the path") as excinfo:
        load_photo(path)
    check_message(excinfo, path)


def test_folder_with_no_images(tmp_path: Path) -> None:
    folder = tmp_path / "empty folder"
    folder.mkdir()
    (folder / "readme.txt").write_text("nothing here")
    paths, errors = find_photos([folder])
    assert paths == []
    with pytest.raises(PhotoError, match=r"folder has no images \(\.jpg, .*\); pass"):
        raise errors[0]
    assert str(folder) in str(errors[0])


def test_text_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "car.jpg"
    path.write_text("a red car with four wheels\n")
    with pytest.raises(PhotoError, match="not an image.*convert it to JPEG") as excinfo:
        load_photo(path)
    check_message(excinfo, path)


def test_truncated_jpeg_is_an_error(tmp_path: Path) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    path = tmp_path / "half.jpg"
    raw = DOG.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(
        PhotoError, match="corrupt or truncated.*re-download"
    ) as excinfo:
        load_photo(path)
    check_message(excinfo, path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(PhotoError, match=r"file is empty \(0 bytes\)") as excinfo:
        load_photo(path)
    check_message(excinfo, path)


def png_claiming_size(path: Path, width: int, height: int) -> None:
    """Write a tiny 1-bit PNG whose header claims width x height pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 16)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "factor", [1.2, 4.5], ids=["over-limit-warning", "over-2x-limit-error"]
)
def test_decompression_bomb(tmp_path: Path, factor: float) -> None:
    limit = Image.MAX_IMAGE_PIXELS
    side = int((limit * factor) ** 0.5) + 1
    path = tmp_path / "bomb.png"
    png_claiming_size(path, side, side)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(
            PhotoError, match="larger than Pillow's decompression-bomb limit"
        ) as excinfo:
            load_photo(path)
    assert caught == []  # the DecompressionBombWarning became the error, not a print
    check_message(excinfo, path)
    assert Image.MAX_IMAGE_PIXELS == limit
