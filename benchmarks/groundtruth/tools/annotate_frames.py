"""Draw the ground-truth lines, zones and smoke/fire regions of one clip on one frame.

Usage (from the repo root):
  python3 benchmarks/groundtruth/tools/annotate_frames.py CLIP_STEM T OUT.jpg
e.g. python3 benchmarks/groundtruth/tools/annotate_frames.py traffic_road_overhead_both_directions_dusk 9.1 /tmp/x.jpg
Needs ffmpeg, Pillow and PyYAML. Cyan = counting line (P1 -> P2, green arrow = direction "in"),
magenta = zone, grey = smoke region, orange = fire region. Output is kept under 100 KB.
"""
import sys, yaml, subprocess, io, math, os
from PIL import Image, ImageDraw
HERE = os.path.dirname(os.path.abspath(__file__))
G = os.path.dirname(HERE) + '/'
V = os.environ.get('MATTHAN_VIDEO_DIR', os.path.join(G, '..', '..', '.deps', 'video')) + '/'
def frame(clip, t):
    png = subprocess.run(['ffmpeg','-loglevel','error','-ss',str(t),'-i',V+clip,'-frames:v','1','-f','image2pipe','-vcodec','png','-'], capture_output=True, check=True).stdout
    return Image.open(io.BytesIO(png)).convert('RGB')
def arrow(d, x1, y1, x2, y2, col, w=2):
    d.line([(x1,y1),(x2,y2)], fill=col, width=w)
    a = math.atan2(y2-y1, x2-x1)
    for s in (+2.6, -2.6):
        d.line([(x2,y2),(x2+9*math.cos(a+s), y2+9*math.sin(a+s))], fill=col, width=w)
def label(d, x, y, s, col=(255,255,0)):
    w = 6*len(s)+4
    d.rectangle([x,y,x+w,y+12], fill=(0,0,0)); d.text((x+2,y+1), s, fill=col)
def draw(stem, t, out, extra=''):
    g = yaml.safe_load(open(G+stem+'.yaml'))
    im = frame(g['clip'], t); W, H = im.size; d = ImageDraw.Draw(im)
    for L in g.get('lines', []):
        (x1,y1),(x2,y2) = L['points']; X1,Y1,X2,Y2 = x1*W,y1*H,x2*W,y2*H
        d.line([(X1,Y1),(X2,Y2)], fill=(0,255,255), width=3)
        d.ellipse([X1-4,Y1-4,X1+4,Y1+4], fill=(0,255,255)); label(d, X1+6, Y1-6, 'P1')
        label(d, X2+6, Y2-2, 'P2')
        # "in" = from the left of P1->P2 to its right (left as seen on screen)
        mx, my = (X1+X2)/2, (Y1+Y2)/2; dx, dy = (X2-X1), (Y2-Y1); n = math.hypot(dx,dy)
        lx, ly = dy/n, -dx/n     # screen-left normal of P1->P2 in y-down image coordinates
        arrow(d, mx+lx*30, my+ly*30, mx-lx*30, my-ly*30, (0,255,0), 3)
        label(d, mx-lx*30+4, my-ly*30+4, 'in', (0,255,0))
        label(d, mx+lx*30-24, my+ly*30+4, 'out', (255,128,0))
        label(d, X1+6, Y1+8, L['id'], (0,255,255))
    for Z in g.get('zones', []):
        pts = [(x*W,y*H) for x,y in Z['polygon']]
        d.line(pts+[pts[0]], fill=(255,0,255), width=2)
        label(d, pts[0][0]+3, pts[0][1]+3, f"{Z['id']} ({Z['kind']})", (255,0,255))
    for key, col in (('smoke_region',(200,200,200)),('fire_region',(255,80,0))):
        if key in g:
            pts = [(x*W,y*H) for x,y in g[key]]
            d.line(pts+[pts[0]], fill=col, width=1)
    for c in g.get('crossings', []):
        if abs(c['t']-t) < 0.35: extra += f"  crossing {c['t']}s {c['direction']} {c['class']}"
    for c in g.get('people_counts', []):
        if c['t'] == t: extra += f"  people in zone: {c['count']}"
    label(d, 2, (H-14) if stem.startswith("traffic_intersection") else 2, f"{stem}  t={t}s{extra}")
    q = 85
    while True:
        im.save(out, quality=q)
        if os.path.getsize(out) < 100_000 or q < 30: break
        q -= 10
    print(out, im.size, os.path.getsize(out), q)
if __name__ == '__main__':
    draw(sys.argv[1], float(sys.argv[2]) if '.' in sys.argv[2] else int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv)>4 else '')
