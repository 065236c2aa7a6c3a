#!/usr/bin/env python3
"""Generate the demo sample images in this folder (CC0, see LICENSE.md).

Everything is drawn procedurally from a fixed seed, so running it again gives the
same pictures. Needs Pillow only:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pillow
    /tmp/venv/bin/python dev/samples/make_samples.py
"""

import math
import os
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20241124


def lerp(a, b, t):
    return a + (b - a) * t


def lerp_colour(c1, c2, t):
    return tuple(int(round(lerp(a, b, t))) for a, b in zip(c1, c2))


def ridge(rng, width, base, roughness, octaves=7):
    """A 1-D fractal height profile (sum of random sine octaves)."""
    heights = [base] * width
    amp = roughness
    freq = 1.5
    for _ in range(octaves):
        phase = rng.uniform(0, math.tau)
        phase2 = rng.uniform(0, math.tau)
        for x in range(width):
            u = x / width
            heights[x] += amp * (
                math.sin(u * freq * math.tau + phase) * 0.6
                + math.sin(u * freq * 2.3 * math.tau + phase2) * 0.4
            )
        amp *= 0.5
        freq *= 2.1
    return heights


def landscape(width=1600, height=1067):
    """A photo-like scene: sky gradient, sun, mountain ranges, lake, trees, grain."""
    rng = random.Random(SEED)
    img = Image.new("RGB", (width, height))
    px = img.load()
    horizon = int(height * 0.62)
    top, low = (38, 78, 148), (250, 196, 140)
    for y in range(horizon):
        c = lerp_colour(top, low, (y / horizon) ** 1.4)
        for x in range(width):
            px[x, y] = c
    draw = ImageDraw.Draw(img)

    # Sun with a soft glow.
    glow = Image.new("L", (width, height), 0)
    ImageDraw.Draw(glow).ellipse((1080, 240, 1320, 480), fill=255)
    glow = glow.filter(ImageFilter.GaussianBlur(60))
    img.paste(Image.new("RGB", (width, height), (255, 236, 190)), (0, 0), glow)
    draw.ellipse((1150, 310, 1250, 410), fill=(255, 248, 225))

    # Clouds: blurred white blobs.
    clouds = Image.new("L", (width, height), 0)
    cd = ImageDraw.Draw(clouds)
    for _ in range(40):
        cx, cy = rng.randint(0, width), rng.randint(40, horizon // 2)
        rx, ry = rng.randint(40, 140), rng.randint(12, 30)
        cd.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=rng.randint(90, 170))
    clouds = clouds.filter(ImageFilter.GaussianBlur(14))
    img.paste(Image.new("RGB", (width, height), (255, 255, 255)), (0, 0), clouds)

    # Mountain ranges, far (hazy) to near (dark), each with a vertical gradient.
    ranges = [
        (horizon - 260, 90, (150, 140, 170), (190, 170, 180)),
        (horizon - 170, 70, (92, 96, 128), (140, 130, 150)),
        (horizon - 80, 45, (44, 70, 70), (80, 100, 90)),
    ]
    for base, rough, c_top, c_bottom in ranges:
        prof = ridge(rng, width, base, rough)
        for x in range(width):
            y0 = max(0, int(prof[x]))
            for y in range(y0, horizon):
                t = (y - y0) / max(1, horizon - y0)
                px[x, y] = lerp_colour(c_top, c_bottom, t)

    # Lake: mirrored sky and mountains, darkened, with ripples.
    for y in range(horizon, height):
        d = y - horizon
        src_y = max(0, horizon - 1 - d)
        ripple = int(6 * math.sin(d * 0.35))
        for x in range(width):
            r, g, b = px[min(width - 1, max(0, x + ripple)), src_y]
            px[x, y] = (int(r * 0.62), int(g * 0.68), int(b * 0.8))

    # Shore and a row of pine trees on the near bank.
    shore = ridge(rng, width, height - 120, 18, octaves=5)
    for x in range(width):
        for y in range(int(shore[x]), height):
            px[x, y] = lerp_colour((40, 52, 30), (22, 30, 18), (y - shore[x]) / 120)
    for _ in range(70):
        tx = rng.randint(0, width)
        ty = int(shore[min(width - 1, tx)]) + rng.randint(0, 30)
        th = rng.randint(60, 170)
        tw = th // 3
        shade = rng.randint(12, 34)
        draw.polygon(
            [(tx, ty - th), (tx - tw // 2, ty), (tx + tw // 2, ty)],
            fill=(shade, shade + 22, shade + 8),
        )
        draw.line((tx, ty, tx, ty + 10), fill=(50, 35, 20), width=3)

    # Film-like grain so the JPEG has photo-like texture; mild to keep it small.
    noise = Image.effect_noise((width, height), 10).convert("RGB")
    img = Image.blend(img, noise, 0.05)
    return img


def logo(size=800):
    """Logo-like shapes on transparency, drawn at 2x then downsampled (anti-aliasing)."""
    s = size * 2
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((160, 160, s - 160, s - 160), radius=220, fill=(24, 110, 200, 255))
    d.ellipse((420, 300, s - 420, s - 540), fill=(255, 200, 40, 255))
    # A star, half transparent so the alpha matters when flattening.
    cx, cy, r_out, r_in = s // 2, s // 2 + 260, 360, 150
    pts = []
    for i in range(10):
        a = -math.pi / 2 + i * math.pi / 5
        r = r_out if i % 2 == 0 else r_in
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    star = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    ImageDraw.Draw(star).polygon(pts, fill=(230, 40, 90, 170))
    img = Image.alpha_composite(img, star)
    # A ring that overhangs the square: its outside part sits on full transparency.
    ring = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    ImageDraw.Draw(ring).ellipse((40, 40, 640, 640), outline=(20, 180, 120, 220), width=70)
    img = Image.alpha_composite(img, ring)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def upright_portrait(width=800, height=1200):
    """A portrait scene with an obvious 'up': sky, house, ground, arrow and text."""
    img = Image.new("RGB", (width, height))
    d = ImageDraw.Draw(img)
    for y in range(height):
        if y < height * 0.7:
            c = lerp_colour((70, 140, 220), (200, 230, 250), y / (height * 0.7))
        else:
            c = lerp_colour((90, 150, 60), (40, 90, 30), (y - height * 0.7) / (height * 0.3))
        d.line((0, y, width, y), fill=c)
    # House standing on the ground.
    d.rectangle((220, 560, 580, 840), fill=(200, 90, 60))
    d.polygon([(180, 570), (400, 380), (620, 570)], fill=(110, 50, 40))
    d.rectangle((360, 700, 440, 840), fill=(70, 40, 30))
    d.rectangle((260, 620, 330, 680), fill=(250, 240, 170))
    d.rectangle((470, 620, 540, 680), fill=(250, 240, 170))
    # Arrow pointing up and a label.
    d.polygon([(400, 60), (320, 180), (370, 180), (370, 300), (430, 300), (430, 180), (480, 180)],
              fill=(255, 255, 255))
    try:
        font = ImageFont.load_default(size=64)
    except TypeError:  # Pillow < 10.1 has no sized default font
        font = ImageFont.load_default()
    d.text((width // 2, 1000), "THIS WAY UP", font=font, fill=(255, 255, 255), anchor="mm")
    return img


def exif_rotated(upright):
    """Store the picture sideways with EXIF Orientation 6 ("rotate 90° CW to view").

    The stored pixels are the upright picture turned 90° counter-clockwise, so a
    viewer that honours the tag turns them back upright; one that ignores it shows
    the picture lying on its side.
    """
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010E] = "Orientation 6 test picture (CC0)"  # ImageDescription
    return stored, exif


def main():
    land = landscape()
    land.save(os.path.join(HERE, "landscape.jpg"), quality=80, optimize=True, progressive=True)

    logo().save(os.path.join(HERE, "logo.png"), optimize=True)

    upright = upright_portrait()
    stored, exif = exif_rotated(upright)
    os.makedirs(os.path.join(HERE, "photos"), exist_ok=True)
    rotated_path = os.path.join(HERE, "photos", "house-exif-rotated.jpg")
    stored.save(rotated_path, quality=82, optimize=True, exif=exif.tobytes())
    # Self-check: honouring the tag must give the upright picture back.
    with Image.open(rotated_path) as im:
        assert im.size == (upright.height, upright.width)
        viewed = ImageOps.exif_transpose(im).convert("RGB")
        assert viewed.size == upright.size
        # Top of the upright picture is sky (blue), bottom is grass (green).
        r, g, b = viewed.getpixel((20, 20))
        assert b > r and b > g, (r, g, b)
        r, g, b = viewed.getpixel((20, upright.height - 20))
        assert g > r and g > b, (r, g, b)

    total = 0
    for root, _dirs, files in os.walk(HERE):
        for name in sorted(files):
            if name.endswith((".jpg", ".png")):
                path = os.path.join(root, name)
                with Image.open(path) as im:
                    size = os.path.getsize(path)
                    total += size
                    print(f"{os.path.relpath(path, HERE)}: {im.format} {im.size} {im.mode} "
                          f"{size} bytes, orientation={im.getexif().get(0x0112)}")
    assert total < 1_000_000, f"samples too large: {total} bytes"


if __name__ == "__main__":
    main()
