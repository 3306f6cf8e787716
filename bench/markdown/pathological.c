/* The published polynomial-time inputs of cmark-gfm's advisories, rendered
 * through our Markdown door (core/aic_markdown.c) at a size n and at 4n:
 * prints the time of each and their ratio (about 4 when the work grows
 * linearly, about 16 when it grows with the square of the input). */
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/aic_markdown.h"

typedef struct {
    const char *name;
    const char *head, *unit, *mid, *unit2, *tail; /* head unit*n mid unit2*n tail */
    int n;
} pattern;

/* From GHSA-29g3-96g3-jg6c (CVE-2023-22483), GHSA-24f7-9frr-5h2r
 * (CVE-2023-22484), GHSA-r572-jvj2-3m8p (CVE-2023-22486), GHSA-66g8-4hjf-77xh
 * (CVE-2023-24824), GHSA-r8vr-c48j-fcc5 (CVE-2023-26485) and
 * GHSA-w4qg-3vf7-m9x5 (CVE-2023-37463). */
static const pattern patterns[] = {
    {"22486 ![[]() repeated", "", "![[]()", "", "", "\n", 5000},
    {"22484 </ then <!-- repeated", "</", "<!--", "", "", "\n", 5000},
    {"22483-1 -1 then <?x repeated", "-1", "<?x", "", "", "y\n", 5000},
    {"22483-2 table |-\\nt>|-", "", "|-\nt>|-\n", "", "", "y\n", 5000},
    {"22483-3 *t then _t*_", "", "*t ", "", "_t*_ ", "\n", 2500},
    {"22483-4 table row of |", "x\n| - |\n", "|", "", "", "y\n", 5000},
    {"22483-5 z_www. repeated", "", "z_www.", "", "", "\n", 5000},
    {"22483-6 [f] refs", "[f]:u\n\"\n", "[f]\n", "", "", "[f]:u \"t\n", 5000},
    {"22483-7 www. then )", "www.", ")", "", "", "\n", 5000},
    {"22483-8 table :- :", ":-\n", ":\n", "", "", ":-\n", 5000},
    {"22483-9 <http://s repeated", "", "<http://s", "", "", "\n", 5000},
    {"22483-10 ~e ,z~~", "~e", ",z~~", "", "", "\n", 5000},
    {"22483-11 > then .", "", ">", "", ".", "\n", 500},
    {"24824-1 > then a*", "", ">", "", "a*", "\n", 500},
    {"24824-2 ' -' then x, newlines", "", " -", "x", "\n", "", 500},
    {"26485-1 _ . _", "", "_", ".", "_", "\n", 500},
    {"26485-2 1. then ' 2.'", "1.\n", " 2.\n", "", "", "", 5000},
    {"26485-3 ' -' lines then x", "", " -\n", "x\n", "", "", 5000},
    {"37463-1 table of n columns", "|", "x|", "\n|", "-|", "\n", 1000},
    {"37463-2 table then n rows", "|", "x|", "\n|", "-|", "\n", 1000},
};

static char *build(apr_pool_t *p, const pattern *t, int n, int rows)
{
    apr_size_t cap = strlen(t->head) + strlen(t->mid) + strlen(t->tail) +
                     (strlen(t->unit) + strlen(t->unit2) + (rows ? 2 : 0)) * (apr_size_t)n + 1;
    char *s = apr_palloc(p, cap), *w = s;

    w = stpcpy(w, t->head);
    for (int i = 0; i < n; i++) {
        w = stpcpy(w, t->unit);
    }
    w = stpcpy(w, t->mid);
    for (int i = 0; i < n; i++) {
        w = stpcpy(w, t->unit2);
    }
    w = stpcpy(w, t->tail);
    for (int i = 0; rows && i < n; i++) {
        w = stpcpy(w, "a\n");
    }
    return s;
}

static double seconds(apr_pool_t *p, const char *md)
{
    apr_time_t start = apr_time_now();

    aic_markdown_html(p, md);
    return (double)(apr_time_now() - start) / APR_USEC_PER_SEC;
}

/* With no argument: every input at its own n. With INDEX and N: that one
 * input at N (a shell loop runs each in its own process, so that one that
 * aborts cmark-gfm leaves the others measured). */
int main(int argc, char **argv)
{
    apr_pool_t *p;
    size_t first = 0, last = sizeof(patterns) / sizeof(*patterns);

    apr_initialize();
    apr_pool_create(&p, NULL);
    aic_markdown_init();
    if (argc > 2) {
        first = (size_t)atoi(argv[1]);
        last = first + 1;
    } else {
        printf("%-32s %9s %9s %9s %9s %7s\n", "input", "n", "bytes", "t(n) s", "t(4n) s", "ratio");
    }
    for (size_t i = first; i < last; i++) {
        const pattern *t = &patterns[i];
        int n = argc > 2 ? atoi(argv[2]) : t->n, rows = !strncmp(t->name, "37463-2", 7);
        char *a = build(p, t, n, rows), *b;
        double ta = seconds(p, a), tb;

        printf("%-32s %9d %9zu %9.4f", t->name, n, strlen(a), ta);
        fflush(stdout);
        b = build(p, t, 4 * n, rows);
        tb = seconds(p, b);
        printf(" %9.4f %7.1f\n", tb, ta > 0 ? tb / ta : 0);
        fflush(stdout);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return 0;
}
