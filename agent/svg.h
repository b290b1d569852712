/* svg.h - the daily-volume chart of `dmarctrace summary`, as one self-contained SVG 1.1 file
 *
 * One panel per policy domain, stacked: a bar per day, spike days in red with a marker and the
 * day's count above the bar, every bar with a tooltip (its <title>). No scripts, no styles
 * from elsewhere, no links, no DOCTYPE: the file shows the same in any viewer and can be
 * attached to a ticket. Written as a stream: dt_svg_begin(), dt_svg_panel() per domain,
 * dt_svg_end().
 *
 * SECURITY: domain names come from reports anyone can send; every text the caller passes is
 * sanitised (report/sanitize.h) and XML-escaped here, so no text can close an element, open
 * one or make the file ill-formed. */
#ifndef DT_SVG_H
#define DT_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* one bar: its day and counts, and its height as a fraction (0..1) of the panel's plot, from
 * the caller's scale (linear or log) */
struct dt_svg_day {
        const char *label;              /* "YYYY-MM-DD" */
        uint64_t messages;
        uint64_t own;                   /* of them from this host */
        double height;
        bool spike;
};

/* one domain's panel; every string is borrowed and may be hostile */
struct dt_svg_panel {
        const char *title;              /* the domain */
        const char *subtitle;           /* what the bars show */
        uint64_t max;                   /* the count a full-height bar stands for */
        const struct dt_svg_day *days;
        size_t ndays;
};

/* dt_svg_begin - the document's head for npanels panels of ndays bars each; title is its
 * <title>. Returns 0, or -EIO when f has an error. */
int dt_svg_begin(FILE *f, const char *title, size_t npanels, size_t ndays);

/* dt_svg_panel - panel number index (0-based, below the ones before it); p->ndays must be the
 * ndays given to dt_svg_begin. 0 or -EIO. */
int dt_svg_panel(FILE *f, size_t index, const struct dt_svg_panel *p);

/* dt_svg_end - the closing tag; 0 or -EIO (also for any earlier write error on f) */
int dt_svg_end(FILE *f);

/* dt_svg_escape - s (NULL: "") sanitised and XML-escaped for text or an attribute value into
 * out (cap bytes, cap >= 1), cut on a character or entity boundary; returns out */
const char *dt_svg_escape(const char *s, char *out, size_t cap);

#endif
