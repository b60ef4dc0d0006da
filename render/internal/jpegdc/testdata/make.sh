#!/bin/sh
# Makes the test JPEGs with libjpeg-turbo's cjpeg/jpegtran (not our encoder)
# Colours stay well inside 0..255 so no channel clips: clipping would make
# the mean of a block differ from the block of the means.
# and their 1/8-scale references with djpeg -scale 1/8.
# Debian: apt-get install libjpeg-turbo-progs; run in this directory.
set -e
python3 - <<'PY'
import math
w, h = 203, 149   # not a multiple of any MCU size
px = bytearray()
for y in range(h):
    for x in range(w):
        r = int(127 + 60 * math.sin(x / 23.0) * math.cos(y / 31.0))
        g = int(60 + 120 * y / h)
        b = 150 if (x // 40 + y // 40) % 2 else 90
        if (x - 120) ** 2 + (y - 70) ** 2 < 35 ** 2:
            r, g, b = 200, 180, 80
        px += bytes((r, g, b))
open("src.ppm", "wb").write(b"P6 %d %d 255\n" % (w, h) + bytes(px))
PY
printf '0,1,2: 0 63 0 0;\n' > seq-interleaved.txt
printf '0: 0 63 0 0;\n1: 0 63 0 0;\n2: 0 63 0 0;\n' > seq-separate.txt
printf '0: 0 0 0 1;\n1: 0 0 0 0;\n2: 0 0 0 0;\n0: 1 63 0 0;\n1: 1 63 0 0;\n2: 1 63 0 0;\n0: 0 0 1 0;\n' > prog-separate-dc.txt
cjpeg -quality 85 src.ppm > baseline420.jpg
cjpeg -quality 85 -sample 1x1 src.ppm > baseline444.jpg
cjpeg -quality 85 -sample 2x1 src.ppm > baseline422.jpg
cjpeg -quality 85 -sample 1x2 src.ppm > baseline440.jpg
cjpeg -quality 85 -sample 4x1 src.ppm > baseline411.jpg
cjpeg -quality 85 -optimize src.ppm > optimized.jpg
cjpeg -quality 85 -restart 2B src.ppm > restart.jpg
cjpeg -quality 85 -grayscale src.ppm > grey.jpg
cjpeg -quality 85 -rgb src.ppm > rgb.jpg
cjpeg -quality 95 -progressive src.ppm > progressive.jpg
cjpeg -quality 85 -progressive -restart 1 src.ppm > progressive-restart.jpg
cjpeg -quality 85 -progressive -grayscale src.ppm > progressive-grey.jpg
cjpeg -quality 85 -scans prog-separate-dc.txt src.ppm > progressive-separate-dc.jpg
cjpeg -quality 85 -scans seq-separate.txt src.ppm > sequential-separate.jpg
cjpeg -quality 85 -arithmetic src.ppm > arithmetic.jpg
for f in *.jpg; do
	case $f in arithmetic.jpg) continue;; esac
	djpeg -scale 1/8 -pnm "$f" > "${f%.jpg}.ref.pnm"
	djpeg -scale 1/8 -grayscale -pnm "$f" > "${f%.jpg}.ref-y.pnm"
done
rm -f src.ppm seq-interleaved.txt seq-separate.txt prog-separate-dc.txt
