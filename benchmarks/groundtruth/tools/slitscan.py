"""Slit-scan of a counting line: the pixels under the line, one row per frame, stacked over time.

Used only to CHECK the hand-made crossing lists (every vehicle crossing the line shows up as a
blob; the row gives its time). It does not detect anything by itself; a person reads it.
Usage: extract frames first, e.g.
  ffmpeg -i CLIP.mp4 -vf scale=320:-2 /tmp/f/%04d.png
  python3 slitscan.py /tmp/f FPS_OR_PTS_FILE out.png x1 y1 x2 y2
FPS_OR_PTS_FILE is the frame rate (constant-rate clips) or a file with one pts per frame
(variable-rate clips: ffprobe -select_streams v:0 -show_entries frame=pts_time -of csv=p=0 CLIP).
Columns run from the line's first point (left) to its second (right); yellow ticks = seconds.
"""
import sys, glob
from PIL import Image, ImageDraw
# linescan.py framesdir ptsfile|fps out x1 y1 x2 y2 : rows=time, cols=position along the line (80 samples), widened x4
fs = sorted(glob.glob(sys.argv[1]+'/*.png'))
try: fps = float(sys.argv[2]); pts = [i/fps for i in range(len(fs))]
except ValueError: pts = [float(l) for l in open(sys.argv[2])]
x1,y1,x2,y2 = map(float, sys.argv[4:8])
N = 80
o = Image.new('RGB', (N, len(fs)))
for t, f in enumerate(fs):
    im = Image.open(f).convert('RGB'); W,H = im.size; px = im.load()
    for i in range(N):
        u = i/(N-1); o.putpixel((i,t), px[min(int((x1+(x2-x1)*u)*W),W-1), min(int((y1+(y2-y1)*u)*H),H-1)])
o = o.resize((N*3, len(fs)), Image.NEAREST)
lab = 30; out = Image.new('RGB', (N*3+lab, len(fs)), (30,0,0)); out.paste(o, (lab,0))
d = ImageDraw.Draw(out); last = -1
for t, p in enumerate(pts):
    if int(p) != last:
        last = int(p); d.line([(0 if last%5==0 else lab-8, t),(lab-1,t)], fill=(255,255,0))
        if last%5==0: d.text((2,t+1), str(last), fill=(255,255,0))
out.save(sys.argv[3]); print(out.size)
