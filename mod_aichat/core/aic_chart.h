/* Charts drawn on the server as SVG: readable without scripts, with a text
 * alternative (a <title>, a <desc> summing them up, and each bar's own
 * <title>), colours as presentation attributes so that a page's
 * Content-Security-Policy needs no inline style. */
#ifndef AIC_CHART_H
#define AIC_CHART_H

#include <apr_pools.h>

typedef struct {
    const char *label; /**< e.g. a day, 2026-12-06 */
    apr_int64_t value; /**< >= 0; a negative value is drawn as 0 */
} aic_chart_bar;

/**
 * A bar chart of n bars (n >= 0) as an <svg> element, allocated from p:
 * role="img", labelled by its <title> (title) and described by its <desc>
 * (total, largest bar and its label, in unit, e.g. "tokens"). The y axis
 * shows the largest value, the x axis the first and last labels. id makes
 * the ids of its title and desc unique in a page. Every text is escaped.
 */
const char *aic_chart_bars(apr_pool_t *p, const char *id, const char *title, const char *unit,
                           const aic_chart_bar *bars, int n);

#endif
