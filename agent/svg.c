/* svg.c - the daily-volume chart of `dmarctrace summary` as an SVG 1.1 file
 *
 * Fixed geometry: a panel per domain of PANEL_H pixels, a plot PLOT_H high whose width is a
 * slot of at most SLOT_MAX pixels per day (narrower for long ranges, so the file stays under
 * PLOT_W_MAX wide), rotated count labels above the spike bars, a date under every seventh bar
 * (every few weeks' for long ranges) counted back from the newest. Numbers are written with "%.1f": no locale decimal commas.
 *
 * SECURITY: all caller text goes through dt_svg_escape(): sanitised first (valid UTF-8, no
 * control characters), then U+FFFE and U+FFFF (not XML characters) replaced and the five
 * markup characters escaped. Nothing else from the store reaches the file but numbers. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "agent/svg.h"
#include "report/sanitize.h"

#define TEXT_MAX        512             /* bytes of one sanitised text */
#define SLOT_MAX        20.0            /* pixels per day, at most */
#define PLOT_W_MAX      1200.0          /* plot width for long ranges */
#define LEFT            72.0            /* room for the count axis */
#define RIGHT           40.0            /* half a date label past the last bar */
#define WIDTH_MIN       480.0
#define TOP             30.0            /* the document's heading */
#define PANEL_H         310.0
#define PLOT_TOP        130.0           /* in a panel: titles, then room for spike labels */
#define PLOT_H          150.0
#define BOTTOM          12.0
#define LABEL_W         70.0            /* a date under the axis */
#define BAR_FILL        "#4a78b5"
#define SPIKE_FILL      "#d0312d"

/* slot_w - pixels per day for ndays bars */
static double slot_w(size_t ndays) {
        double w = ndays ? PLOT_W_MAX / (double) ndays : SLOT_MAX;

        return w < SLOT_MAX ? w : SLOT_MAX;
}

/* doc_width - the document's width for ndays bars */
static double doc_width(size_t ndays) {
        double w = LEFT + slot_w(ndays) * (double) ndays + RIGHT;

        return w < WIDTH_MIN ? WIDTH_MIN : w;
}

/* utf8_len - the length of the sequence led by c (its input is valid UTF-8) */
static size_t utf8_len(unsigned char c) {
        return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

const char *dt_svg_escape(const char *s, char *out, size_t cap) {
        char clean[TEXT_MAX];
        size_t n, o = 0;

        n = dt_sanitize(s ? s : "", s ? strlen(s) : 0, clean, sizeof clean, NULL);
        for (size_t i = 0; i < n;) {
                const unsigned char *c = (const unsigned char *) clean + i;
                size_t k = utf8_len(*c);
                const char *rep = NULL;

                if (i + k > n)
                        break;
                switch (*c) {
                case '&': rep = "&amp;"; break;
                case '<': rep = "&lt;"; break;
                case '>': rep = "&gt;"; break;
                case '"': rep = "&quot;"; break;
                case '\'': rep = "&apos;"; break;
                default:
                        if (k == 3 && c[0] == 0xEF && c[1] == 0xBF && (c[2] == 0xBE || c[2] == 0xBF))
                                rep = "\xEF\xBF\xBD";
                }
                if (rep) {
                        size_t r = strlen(rep);

                        if (o + r >= cap)
                                break;
                        memcpy(out + o, rep, r);
                        o += r;
                } else {
                        if (o + k >= cap)
                                break;
                        memcpy(out + o, c, k);
                        o += k;
                }
                i += k;
        }
        out[o] = '\0';
        return out;
}

/* ESC - dt_svg_escape into a char array; ESC_MAX holds any TEXT_MAX-byte text escaped */
#define ESC(s, buf) dt_svg_escape((s), (buf), sizeof (buf))
#define ESC_MAX (TEXT_MAX * 6)

int dt_svg_begin(FILE *f, const char *title, size_t npanels, size_t ndays) {
        double w = doc_width(ndays), h = TOP + (double) npanels * PANEL_H + BOTTOM;
        char t[ESC_MAX];

        if (npanels == 0)
                h += 30;
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.1f\" "
                   "height=\"%.1f\" viewBox=\"0 0 %.1f %.1f\" font-family=\"sans-serif\">\n"
                   "<title>%s</title>\n"
                   "<rect x=\"0\" y=\"0\" width=\"%.1f\" height=\"%.1f\" fill=\"#ffffff\"/>\n"
                   "<text x=\"%.1f\" y=\"20\" font-size=\"12\" fill=\"#555555\">%s</text>\n",
                w, h, w, h, ESC(title, t), w, h, LEFT, t);
        if (npanels == 0)
                fprintf(f, "<text x=\"%.1f\" y=\"50\" font-size=\"13\">no daily volumes in the "
                           "store</text>\n", LEFT);
        return ferror(f) ? -EIO : 0;
}

/* bar - one day's bar, its tooltip and, on a spike day, the marker and the count */
static void bar(FILE *f, const struct dt_svg_day *d, double x, double slot, double bottom) {
        double h = (d->height > 1 ? 1 : d->height > 0 ? d->height : 0) * PLOT_H;
        double bw = slot * 0.7 > 0.5 ? slot * 0.7 : 0.5, cx = x + slot / 2;
        char day[ESC_MAX];

        if (d->messages > 0 && h < 1)
                h = 1;  /* a day with mail never looks empty */
        ESC(d->label, day);
        fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                   "fill=\"%s\"><title>%s: %" PRIu64 " messages, %" PRIu64 " from this host%s"
                   "</title></rect>\n",
                d->spike ? "bar spike" : "bar", cx - bw / 2, bottom - h, bw, h,
                d->spike ? SPIKE_FILL : BAR_FILL, day, d->messages, d->own,
                d->spike ? ", spike" : "");
        if (!d->spike)
                return;
        fprintf(f, "<path class=\"marker\" d=\"M %.1f %.1f l -4 -7 h 8 z\" fill=\"%s\"/>\n",
                cx, bottom - h - 3, SPIKE_FILL);
        fprintf(f, "<text class=\"count\" x=\"%.1f\" y=\"%.1f\" transform=\"rotate(-90 %.1f %.1f)\" "
                   "font-size=\"10\" fill=\"%s\">%" PRIu64 " (%s)</text>\n",
                cx + 3.5, bottom - h - 13, cx + 3.5, bottom - h - 13, SPIKE_FILL, d->messages,
                strlen(day) > 5 ? day + 5 : day);
}

int dt_svg_panel(FILE *f, size_t index, const struct dt_svg_panel *p) {
        double y0 = TOP + (double) index * PANEL_H, slot = slot_w(p->ndays);
        double top = y0 + PLOT_TOP, bottom = top + PLOT_H, right = LEFT + slot * (double) p->ndays;
        /* a date every `step` bars, a multiple of a week, about LABEL_W pixels apart at least */
        size_t step = 7 * (size_t) (LABEL_W / (7 * slot) + 1);
        char t[ESC_MAX];

        fprintf(f, "<g class=\"panel\">\n"
                   "<text class=\"domain\" x=\"%.1f\" y=\"%.1f\" font-size=\"15\" "
                   "font-weight=\"bold\">%s</text>\n",
                LEFT, y0 + 20, ESC(p->title, t));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#555555\">%s</text>\n",
                LEFT, y0 + 38, ESC(p->subtitle, t));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\" "
                   "stroke-dasharray=\"3,3\"/>\n"
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%" PRIu64 "</text>\n"
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">0</text>\n",
                LEFT, top, right, top, LEFT - 6, top + 4, p->max, LEFT - 6, bottom + 4);
        for (size_t i = 0; i < p->ndays; i++) {
                const struct dt_svg_day *d = &p->days[i];
                double x = LEFT + slot * (double) i;

                bar(f, d, x, slot, bottom);
                if ((p->ndays - 1 - i) % step == 0)
                        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
                                   "text-anchor=\"middle\">%s</text>\n",
                                x + slot / 2, bottom + 16, ESC(d->label, t));
        }
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n"
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n"
                   "</g>\n",
                LEFT, bottom, right, bottom, LEFT, top, LEFT, bottom);
        return ferror(f) ? -EIO : 0;
}

int dt_svg_end(FILE *f) {
        fputs("</svg>\n", f);
        return ferror(f) ? -EIO : 0;
}
