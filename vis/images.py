"""Find and load the photos a user points `python -m vis` at, as 8-bit RGB images.

Pillow does the decoding (EXIF orientation via `ImageOps.exif_transpose`); this module
handles the photos people really have (issue 3) and turns every failure into one line.
"""

import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, ImageOps

# Formats Pillow may open ("JPEG" includes MPO, the multi-picture JPEG of some
# phones). A whitelist keeps out formats such as EPS, which Pillow hands to
# Ghostscript, and lets the error name what does work.
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")
EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
SUPPORTED = "JPEG, PNG, GIF, WebP, BMP or TIFF"

# Pillow opens 16-bit grayscale PNG and TIFF as I;16 (older releases: I)
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


class PhotoError(ValueError):
    """A photo that cannot be used: one line naming the file, the problem and a fix."""


@dataclass
class Photo:
    """A decoded photo, upright and in 8-bit RGB, with remarks for the user."""

    path: Path
    image: Image.Image  # mode "RGB", EXIF orientation applied, alpha on white
    notes: list[str]  # one line each, e.g. "animated GIF: using frame 1 of 12"
    original_size: tuple[int, int]  # (width, height) after the EXIF transpose


def find_photos(inputs: list[str | Path]) -> tuple[list[Path], list[PhotoError]]:
    """Expand folders into their image files; keep files in the order given.

    A folder contributes its image files (by extension, sorted, not recursive, hidden
    files skipped). A missing path or a folder without images becomes a `PhotoError`
    in the second list, so the caller can still process the good ones.
    """
    paths: list[Path] = []
    errors: list[PhotoError] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                child
                for child in path.iterdir()
                if child.is_file()
                and child.suffix.lower() in EXTENSIONS
                and not child.name.startswith(".")
            )
            if not found:
                errors.append(
                    PhotoError(
                        f"{path}: folder has no images ({', '.join(EXTENSIONS)}); "
                        "pass a folder with photos in it, or the photo files themselves"
                    )
                )
            paths.extend(found)
        elif path.exists():
            paths.append(path)
        else:
            errors.append(
                PhotoError(
                    f"{path}: no such file or folder; check the path and spelling"
                )
            )
    return paths, errors


def load_photo(path: Path) -> Photo:
    """Decode one photo fully into an upright 8-bit RGB image; raise `PhotoError`."""
    path = Path(path)
    try:
        image, notes = _decode(path)
    except FileNotFoundError:
        raise PhotoError(f"{path}: no such file; check the path and spelling") from None
    except IsADirectoryError:
        raise PhotoError(
            f"{path}: is a folder, not a photo file; pass a photo file, or give the "
            "folder to find_photos() to list its photos"
        ) from None
    except PermissionError:
        raise PhotoError(
            f"{path}: permission denied; make the file readable and try again"
        ) from None
    except Image.UnidentifiedImageError:
        if _is_empty(path):
            raise PhotoError(
                f"{path}: file is empty (0 bytes); copy or download the photo again"
            ) from None
        raise PhotoError(
            f"{path}: not an image, or not in a format this tool reads ({SUPPORTED}); "
            "convert it to JPEG or PNG"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(
            f"{path}: image is larger than Pillow's decompression-bomb limit of "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels; downscale it (the model sees only "
            "a few hundred pixels a side) and try again"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PhotoError(
            f"{path}: image data is corrupt or truncated ({detail}); "
            "re-export or re-download the photo"
        ) from None
    return Photo(path=path, image=image, notes=notes, original_size=image.size)


def _decode(path: Path) -> tuple[Image.Image, list[str]]:
    """Open, fully decode, orient and convert to RGB; Pillow's exceptions propagate."""
    notes: list[str] = []
    with warnings.catch_warnings():
        # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS; refuse those too,
        # without changing the limit for the rest of the process.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path, formats=FORMATS) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > 1 and image.format == "TIFF":
                notes.append(f"multi-page TIFF: using page 1 of {frames}")
            elif frames > 1 and image.format != "MPO":  # MPO: a phone's extra views
                notes.append(f"animated {image.format}: using frame 1 of {frames}")

            # decode every byte now, so a truncated file fails here, not as grey
            image.load()
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            upright = ImageOps.exif_transpose(image)
            file_format = image.format
    if orientation in range(2, 9):
        notes.append(f"EXIF orientation {orientation} applied: image turned upright")
    return _to_rgb(upright, file_format, notes), notes


def _to_rgb(image: Image.Image, file_format: str, notes: list[str]) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB, noting each conversion that loses data."""
    if image.mode in SIXTEEN_BIT_MODES:
        # Pillow's own I;16 -> L conversion clips at 255, turning most pixels white;
        # scale 0..65535 to 0..255 instead, rounding to nearest (+0.5 before truncation)
        bits = "32-bit" if image.mode == "I" and file_format != "PNG" else "16-bit"
        notes.append(f"{bits} {file_format} scaled by 65535 to 8-bit")
        image = image.convert("I").point(lambda value: value / 257 + 0.5).convert("L")

    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La")
    if has_alpha or "transparency" in image.info:
        rgba = image.convert("RGBA")
        if rgba.getchannel("A").getextrema() != (255, 255):
            notes.append("transparent pixels composited on white")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")

    if image.mode not in ("RGB", "L", "P", "1"):
        notes.append(f"{image.mode} converted to RGB")
    return image.convert("RGB")


def _is_empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False
