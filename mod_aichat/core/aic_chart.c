#include "aic_chart.h"
#include "aic_html.h"

#include <apr_strings.h>
#include <apr_tables.h>

#define WIDTH     640
#define HEIGHT    200
#define LEFT      56 /* room for the y axis' figure */
#define BOTTOM    24 /* room for the x axis' labels */
#define TOP       8
#define BAR_FILL  "#3b6fd8"
#define AXIS_FILL "#555"

static apr_int64_t clamp(apr_int64_t v)
{
    return v < 0 ? 0 : v;
}

const char *aic_chart_bars(apr_pool_t *p, const char *id, const char *title, const char *unit,
                           const aic_chart_bar *bars, int n)
{
    apr_int64_t max = 0, total = 0;
    int at_max = -1;
    double plot_w = WIDTH - LEFT, plot_h = HEIGHT - BOTTOM - TOP, slot;
    const char *eid = aic_html_escape(p, id), *eunit = aic_html_escape(p, unit);
    const char *desc;
    apr_array_header_t *parts = apr_array_make(p, n + 3, sizeof(const char *));

    for (int i = 0; i < n; i++) {
        total += clamp(bars[i].value);
        if (at_max < 0 || clamp(bars[i].value) > max) {
            max = clamp(bars[i].value);
            at_max = i;
        }
    }
    if (n == 0) {
        desc = "No data.";
    } else {
        desc = apr_psprintf(p,
                            "%d bars from %s to %s; total %" APR_INT64_T_FMT
                            " %s; largest %" APR_INT64_T_FMT " %s on %s.",
                            n, aic_html_escape(p, bars[0].label),
                            aic_html_escape(p, bars[n - 1].label), total, eunit, max, eunit,
                            aic_html_escape(p, bars[at_max].label));
    }
    APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(
        p,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
        "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
        "aria-labelledby=\"%s-title %s-desc\">"
        "<title id=\"%s-title\">%s</title><desc id=\"%s-desc\">%s</desc>"
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/>"
        "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" "
        "fill=\"%s\">%" APR_INT64_T_FMT "</text>",
        WIDTH, HEIGHT, WIDTH, HEIGHT, eid, eid, eid, aic_html_escape(p, title), eid, desc, LEFT,
        HEIGHT - BOTTOM, WIDTH, HEIGHT - BOTTOM, AXIS_FILL, LEFT - 6, TOP + 10, AXIS_FILL, max);
    slot = n ? plot_w / n : plot_w;
    for (int i = 0; i < n; i++) {
        double h = max ? plot_h * (double)clamp(bars[i].value) / (double)max : 0;

        APR_ARRAY_PUSH(parts, const char *) =
            apr_psprintf(p,
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                         "fill=\"%s\"><title>%s: %" APR_INT64_T_FMT " %s</title></rect>",
                         LEFT + i * slot + slot * 0.1, HEIGHT - BOTTOM - h, slot * 0.8, h, BAR_FILL,
                         aic_html_escape(p, bars[i].label), clamp(bars[i].value), eunit);
    }
    if (n) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_psprintf(p,
                         "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"%s\">%s</text>"
                         "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" "
                         "fill=\"%s\">%s</text>",
                         LEFT, HEIGHT - 6, AXIS_FILL, aic_html_escape(p, bars[0].label), WIDTH,
                         HEIGHT - 6, AXIS_FILL, aic_html_escape(p, bars[n - 1].label));
    }
    APR_ARRAY_PUSH(parts, const char *) = "</svg>";
    return apr_array_pstrcat(p, parts, 0);
}
