"""Write a short Y4M video showing a QR code of `text` (Chromium's fake camera reads Y4M files).

    python tests/e2e/qr_y4m.py TEXT OUT.y4m
"""
from __future__ import annotations

import sys

import segno

WIDTH, HEIGHT, FRAMES = 640, 480, 10


def main(text: str, out: str) -> None:
    matrix = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=1, border=4)]
    size = len(matrix)
    scale = min(WIDTH, HEIGHT) * 9 // 10 // size
    x0, y0 = (WIDTH - size * scale) // 2, (HEIGHT - size * scale) // 2
    luma = bytearray([235]) * (WIDTH * HEIGHT)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                for y in range(y0 + r * scale, y0 + (r + 1) * scale):
                    start = y * WIDTH + x0 + c * scale
                    luma[start:start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (WIDTH * HEIGHT // 4)
    with open(out, "wb") as f:
        f.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        f.writelines(b"FRAME\n" + bytes(luma) + chroma + chroma for _ in range(FRAMES))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
