/* test_disclosure.c — threshold and secondary suppression on crafted tables, an
 * independent check that no withheld cell can be derived from the shown ones,
 * rounding, noise distributions, and the privacy budget ledger. */
#include "core/disclosure.h"
#include "testutil.h"

#include <math.h>
#include <time.h>

/* Builds a 2-D table with margins from a rows x cols matrix of counts. */
static void table2(dc_table *t, size_t rows, size_t cols, const int64_t *m)
{
    size_t sz[2] = {rows, cols};
    amp_err err = {0};
    assert_int_equal(dc_table_init(t, 2, sz, &err), AMP_OK);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            int64_t v = m[i * cols + j];
            size_t idx[2];
            size_t marg[4][2] = {{i, j}, {i, cols}, {rows, j}, {rows, cols}};
            for (int k = 0; k < 4; k++) {
                idx[0] = marg[k][0];
                idx[1] = marg[k][1];
                t->count[dc_index(t, idx)] += v;
            }
        }
}

static uint8_t st(const dc_table *t, size_t i, size_t j)
{
    size_t idx[2] = {i, j};
    return t->status[dc_index(t, idx)];
}

/* The attacker: knows every shown cell and that each line sums to its total;
 * repeatedly solves lines with one unknown.  Returns how many withheld cells
 * it recovered (must be 0).  Works for any number of dimensions. */
static size_t derivable(const dc_table *t)
{
    bool *known = calloc(t->ncells, 1);
    assert_non_null(known);
    for (size_t i = 0; i < t->ncells; i++)
        known[i] = t->status[i] == DC_SHOWN;
    size_t recovered = 0;
    bool progress = true;
    while (progress) {
        progress = false;
        for (int d = 0; d < t->ndims; d++) {
            size_t stride = 1;
            for (int e = t->ndims - 1; e > d; e--)
                stride *= t->size[e] + 1;
            size_t len = t->size[d] + 1;
            for (size_t s = 0; s < t->ncells; s++) {
                if ((s / stride) % len)
                    continue;
                size_t unknown = 0, which = 0;
                for (size_t k = 0; k < len; k++)
                    if (!known[s + k * stride]) {
                        unknown++;
                        which = s + k * stride;
                    }
                if (unknown == 1) {
                    known[which] = true;
                    recovered++;
                    progress = true;
                }
            }
        }
    }
    free(known);
    return recovered;
}

static void test_primary_and_secondary(void **state)
{
    (void)state;
    /* one small cell: its row and column each need a complement, and the
     * complements' own lines too */
    const int64_t m[] = {
        50, 3,  40, /* row 0: 3 is primary */
        60, 20, 30, /* row 1 */
        25, 45, 15, /* row 2 */
    };
    dc_table t;
    table2(&t, 3, 3, m);
    size_t n = disclosure_suppress(&t, 10);
    assert_true(n >= 4);
    assert_int_equal(st(&t, 0, 1), DC_PRIMARY);
    /* row 0's complement is its smallest other non-zero cell: 40 */
    assert_int_equal(st(&t, 0, 2), DC_SECONDARY);
    /* column 1's complement is its smallest other cell: 20 */
    assert_int_equal(st(&t, 1, 1), DC_SECONDARY);
    /* no row or column holds exactly one withheld cell */
    assert_int_equal(derivable(&t), 0);
    /* margins of 53+... are large: shown */
    assert_int_equal(st(&t, 0, 3), DC_SHOWN);
    assert_int_equal(st(&t, 3, 3), DC_SHOWN);
    dc_table_release(&t);
}

static void test_zero_is_not_suppressed(void **state)
{
    (void)state;
    const int64_t m[] = {0, 30, 12, 40};
    dc_table t;
    table2(&t, 2, 2, m);
    assert_int_equal(disclosure_suppress(&t, 10), 0);
    assert_int_equal(st(&t, 0, 0), DC_SHOWN);
    assert_int_equal(t.count[0], 0);
    dc_table_release(&t);
}

static void test_single_category_line_hides_total(void **state)
{
    (void)state;
    /* a row whose only non-zero cell is small: the complement must be the total
     * (every other cell is a known zero) */
    const int64_t m[] = {4, 0, 30, 25};
    dc_table t;
    table2(&t, 2, 2, m);
    disclosure_suppress(&t, 10);
    assert_int_equal(st(&t, 0, 0), DC_PRIMARY);
    assert_int_equal(st(&t, 0, 2), DC_PRIMARY); /* the row total 4 is small too */
    assert_int_equal(derivable(&t), 0);
    dc_table_release(&t);
}

static void test_small_total_suppressed(void **state)
{
    (void)state;
    /* cells above the threshold but a margin below it cannot happen for sums;
     * margins of one small row are primary themselves */
    const int64_t m[] = {2, 3, 40, 50};
    dc_table t;
    table2(&t, 2, 2, m);
    disclosure_suppress(&t, 10);
    assert_int_equal(st(&t, 0, 2), DC_PRIMARY); /* 5 */
    assert_int_equal(st(&t, 0, 0), DC_PRIMARY);
    assert_int_equal(st(&t, 0, 1), DC_PRIMARY);
    assert_int_equal(derivable(&t), 0);
    dc_table_release(&t);
}

static void test_random_tables_never_derivable(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int round = 0; round < 300; round++) {
        int nd = 1 + round % 3;
        size_t sz[3] = {2 + (size_t)(round % 5), 2 + (size_t)((round / 5) % 4), 2};
        dc_table t;
        amp_err err = {0};
        assert_int_equal(dc_table_init(&t, nd, sz, &err), AMP_OK);
        /* random inner cells, then margins as sums */
        for (size_t i = 0; i < t.ncells; i++) {
            size_t rem = i;
            bool margin = false;
            for (int d = nd - 1; d >= 0; d--) {
                margin = margin || rem % (sz[d] + 1) == sz[d];
                rem /= sz[d] + 1;
            }
            if (margin)
                continue;
            seed = seed * 1103515245u + 12345u;
            int r = (int)((seed >> 16) % 100);
            int64_t v = r < 25 ? 0 : r < 55 ? 1 + r % 9 : r;
            /* add v to the cell and every margin above it */
            for (unsigned mask = 0; mask < (1u << nd); mask++) {
                size_t idx[3], rem2 = i;
                for (int d = nd - 1; d >= 0; d--) {
                    idx[d] = rem2 % (sz[d] + 1);
                    rem2 /= sz[d] + 1;
                }
                for (int d = 0; d < nd; d++)
                    if (mask & (1u << d))
                        idx[d] = sz[d];
                t.count[dc_index(&t, idx)] += v;
            }
        }
        disclosure_suppress(&t, 10);
        for (size_t i = 0; i < t.ncells; i++)
            if (t.count[i] >= 1 && t.count[i] < 10)
                assert_int_not_equal(t.status[i], DC_SHOWN);
        assert_int_equal(derivable(&t), 0);
        dc_table_release(&t);
    }
}

/* ---- an independent exact attacker ----------------------------------------
 * It knows every shown cell and that every line of the table adds up to its
 * total (true of single-valued dimensions and of counts of mentions), and
 * solves the whole system at once: one unknown per cell of the table (shown or
 * not), an equation x = value per shown cell, one per line; Gauss-Jordan
 * elimination modulo the prime 998244353 (not the code's modulus), with the
 * right-hand side carried along.  A withheld cell is determined when its pivot
 * row has no other unknown; the value it then recovers is checked against the
 * truth, so a "determined" verdict is a real leak, not an artefact. */
#define ATK_P 998244353ull

static uint64_t atk_pow(uint64_t a, uint64_t e)
{
    uint64_t r = 1;
    a %= ATK_P;
    for (; e; e >>= 1, a = a * a % ATK_P)
        if (e & 1)
            r = r * a % ATK_P;
    return r;
}

/* Returns how many withheld cells it recovers; *first the first of them. */
static size_t attack(const dc_table *t, const int64_t *truth, size_t *first)
{
    size_t n = t->ncells, w = n + 1, nrows = 0, cap = n;
    for (int d = 0; d < t->ndims; d++)
        cap += n / (t->size[d] + 1);
    uint64_t *m = calloc(cap * w, sizeof *m);
    assert_non_null(m);
    for (size_t i = 0; i < n; i++)
        if (t->status[i] == DC_SHOWN) {
            m[nrows * w + i] = 1;
            m[nrows * w + n] = (uint64_t)t->count[i] % ATK_P;
            nrows++;
        }
    for (int d = 0; d < t->ndims; d++) {
        size_t stride = 1, len = t->size[d] + 1;
        for (int e = t->ndims - 1; e > d; e--)
            stride *= t->size[e] + 1;
        for (size_t s = 0; s < n; s++) {
            if ((s / stride) % len)
                continue;
            for (size_t k = 0; k + 1 < len; k++)
                m[nrows * w + s + k * stride] = 1;
            m[nrows * w + s + (len - 1) * stride] = ATK_P - 1;
            nrows++;
        }
    }
    size_t *pivot_of_row = calloc(nrows, sizeof *pivot_of_row), rank = 0;
    assert_non_null(pivot_of_row);
    for (size_t col = 0; col < n && rank < nrows; col++) {
        size_t r = rank;
        while (r < nrows && !m[r * w + col])
            r++;
        if (r == nrows)
            continue;
        for (size_t j = 0; j < w; j++) {
            uint64_t tmp = m[r * w + j];
            m[r * w + j] = m[rank * w + j];
            m[rank * w + j] = tmp;
        }
        uint64_t inv = atk_pow(m[rank * w + col], ATK_P - 2);
        for (size_t j = 0; j < w; j++)
            m[rank * w + j] = m[rank * w + j] * inv % ATK_P;
        for (size_t i = 0; i < nrows; i++) {
            uint64_t f = m[i * w + col];
            if (i == rank || !f)
                continue;
            for (size_t j = 0; j < w; j++)
                m[i * w + j] = (m[i * w + j] + (ATK_P - f) * m[rank * w + j]) % ATK_P;
        }
        pivot_of_row[rank++] = col;
    }
    size_t recovered = 0;
    for (size_t r = 0; r < rank; r++) {
        size_t col = pivot_of_row[r], others = 0;
        if (t->status[col] == DC_SHOWN)
            continue;
        for (size_t j = 0; j < n; j++)
            others += j != col && m[r * w + j];
        if (others)
            continue;
        /* determined: the value it recovers is the true one */
        assert_int_equal(m[r * w + n], (uint64_t)truth[col] % ATK_P);
        if (!recovered && first)
            *first = col;
        recovered++;
    }
    free(pivot_of_row);
    free(m);
    return recovered;
}

static size_t withheld(const dc_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ncells; i++)
        n += t->status[i] != DC_SHOWN;
    return n;
}

/* Adds v at inner cell idx and at every margin above it. */
static void add_at(dc_table *t, const size_t *idx, int64_t v)
{
    for (unsigned mask = 0; mask < (1u << t->ndims); mask++) {
        size_t j[DC_MAX_DIMS];
        for (int d = 0; d < t->ndims; d++)
            j[d] = mask & (1u << d) ? t->size[d] : idx[d];
        t->count[dc_index(t, j)] += v;
    }
}

static uint32_t rnd(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 16;
}

static void test_bridge_table_audited(void **state)
{
    (void)state;
    /* two 2x2 blocks of small cells joined by one small bridge cell at
     * (r1, c2) = 4: every line holds two withheld cells, yet (r1,c2) is the
     * hidden part of rows r0+r1 minus that of columns c0+c1 */
    int64_t m[25];
    for (int i = 0; i < 25; i++)
        m[i] = 50;
    m[0] = 3, m[1] = 4, m[5] = 2, m[6] = 5;     /* block A: r0,r1 x c0,c1 */
    m[12] = 6, m[13] = 1, m[17] = 2, m[18] = 7; /* block B: r2,r3 x c2,c3 */
    m[7] = 4;                                   /* the bridge (r1, c2) */
    dc_table t;
    table2(&t, 5, 5, m);
    int64_t truth[36];
    memcpy(truth, t.count, sizeof truth);
    /* primary suppression alone leaks the bridge: the attacker works */
    for (size_t i = 0; i < t.ncells; i++)
        t.status[i] = t.count[i] >= 1 && t.count[i] < 10 ? DC_PRIMARY : DC_SHOWN;
    size_t leaked = SIZE_MAX;
    assert_int_equal(attack(&t, truth, &leaked), 1);
    size_t bridge[2] = {1, 2};
    assert_int_equal(leaked, dc_index(&t, bridge));
    memset(t.status, 0, t.ncells);
    size_t n = disclosure_suppress(&t, 10);
    assert_int_equal(attack(&t, truth, NULL), 0);
    /* 9 primary cells and one complement are enough */
    assert_int_equal(n, withheld(&t));
    assert_true(n <= 11);
    dc_table_release(&t);
}

static void test_few_small_cells_modest_suppression(void **state)
{
    (void)state;
    /* a 6x6 table with one small cell: the classic answer withholds a 2x2
     * rectangle; the audit must not withhold much more */
    int64_t m[36];
    uint32_t seed = 7;
    for (int i = 0; i < 36; i++)
        m[i] = 20 + (int64_t)(rnd(&seed) % 80);
    m[14] = 3;
    dc_table t;
    table2(&t, 6, 6, m);
    int64_t truth[49];
    memcpy(truth, t.count, sizeof truth);
    size_t n = disclosure_suppress(&t, 10);
    assert_int_equal(attack(&t, truth, NULL), 0);
    print_message("one small cell in 6x6: %zu withheld\n", n);
    assert_true(n >= 4 && n <= 6);
    for (size_t i = 0; i < t.ncells; i++) /* no margin withheld */
        if (i % 7 == 6 || i / 7 == 6)
            assert_int_equal(t.status[i], DC_SHOWN);
    dc_table_release(&t);
}

/* Random tables of 2, 3 and 4 dimensions with many small cells. */
static void test_random_tables_audited(void **state)
{
    (void)state;
    uint32_t seed = 4242;
    for (int round = 0; round < 60; round++) {
        int nd = 2 + round % 3;
        size_t sz[4];
        for (int d = 0; d < nd; d++)
            sz[d] = 2 + rnd(&seed) % (nd == 2 ? 7 : nd == 3 ? 4 : 2);
        dc_table t;
        amp_err err = {0};
        assert_int_equal(dc_table_init(&t, nd, sz, &err), AMP_OK);
        size_t idx[4] = {0};
        for (;;) {
            int r = (int)(rnd(&seed) % 100);
            add_at(&t, idx, r < 20 ? 0 : r < 65 ? 1 + r % 9 : r);
            int d = nd - 1;
            while (d >= 0 && ++idx[d] == sz[d])
                idx[d--] = 0;
            if (d < 0)
                break;
        }
        int64_t *truth = malloc(t.ncells * sizeof *truth);
        assert_non_null(truth);
        memcpy(truth, t.count, t.ncells * sizeof *truth);
        disclosure_suppress(&t, 10);
        for (size_t i = 0; i < t.ncells; i++) {
            if (t.count[i] >= 1 && t.count[i] < 10)
                assert_int_not_equal(t.status[i], DC_SHOWN);
            if (t.count[i] == 0) /* true zeros stay shown */
                assert_int_equal(t.status[i], DC_SHOWN);
        }
        size_t leaked = 0;
        if (attack(&t, truth, &leaked))
            fail_msg("round %d (%d dims): withheld cell %zu determined", round, nd, leaked);
        free(truth);
        dc_table_release(&t);
    }
}

/* Counts of mentions: a case with several values of the multi-valued
 * dimension 0 counts once per value, totals included, so every line adds up
 * and the attacker may use all of them. */
static void test_mentions_table_audited(void **state)
{
    (void)state;
    uint32_t seed = 99;
    for (int round = 0; round < 20; round++) {
        size_t sz[3] = {4 + (size_t)round % 3, 3, 2};
        dc_table t;
        amp_err err = {0};
        assert_int_equal(dc_table_init(&t, 3, sz, &err), AMP_OK);
        for (int c = 0; c < 120; c++) {
            size_t a = rnd(&seed) % sz[0], b = rnd(&seed) % sz[0];
            size_t g = rnd(&seed) % 10 < 7 ? 0 : 1 + rnd(&seed) % 2, h = rnd(&seed) % 2;
            size_t i1[3] = {a, g, h}, i2[3] = {b, g, h};
            add_at(&t, i1, 1);
            if (b != a && rnd(&seed) % 2) /* a second value: a second mention */
                add_at(&t, i2, 1);
        }
        int64_t *truth = malloc(t.ncells * sizeof *truth);
        assert_non_null(truth);
        memcpy(truth, t.count, t.ncells * sizeof *truth);
        disclosure_suppress(&t, 10);
        assert_int_equal(attack(&t, truth, NULL), 0);
        free(truth);
        dc_table_release(&t);
    }
}

/* A multi-valued dimension counted as cases: totals count a case once, so
 * its lines do not add up and cannot be used; those that do still are. */
static void test_non_additive_lines_ignored(void **state)
{
    (void)state;
    /* 1-D: categories 5 and 30, total 31 (a case holds both values): the
     * line does not hold, so the withheld 5 is safe without a complement */
    size_t sz[1] = {2};
    dc_table t;
    amp_err err = {0};
    assert_int_equal(dc_table_init(&t, 1, sz, &err), AMP_OK);
    t.count[0] = 5, t.count[1] = 30, t.count[2] = 31;
    assert_int_equal(disclosure_suppress(&t, 10), 1);
    /* the same line adding up (35) needs a complement */
    memset(t.status, 0, t.ncells);
    t.count[2] = 35;
    assert_int_equal(disclosure_suppress(&t, 10), 2);
    assert_int_equal(t.status[1], DC_SECONDARY);
    dc_table_release(&t);
}

/* A 4-dimension table of 13 x 5 x 6 x 4 categories with many small cells
 * (like year x quarter x gender x majority) is audited in reasonable time. */
static void test_four_dims_fast_enough(void **state)
{
    (void)state;
    size_t sz[4] = {12, 4, 5, 3};
    dc_table t;
    amp_err err = {0};
    assert_int_equal(dc_table_init(&t, 4, sz, &err), AMP_OK);
    uint32_t seed = 5;
    size_t idx[4] = {0};
    for (;;) {
        int r = (int)(rnd(&seed) % 100);
        add_at(&t, idx, r < 15 ? 0 : r < 60 ? 1 + r % 9 : r % 40);
        int d = 3;
        while (d >= 0 && ++idx[d] == sz[d])
            idx[d--] = 0;
        if (d < 0)
            break;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    disclosure_suppress(&t, 10);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    print_message("4-D table of %zu cells: %zu withheld in %.0f ms\n", t.ncells, withheld(&t), ms);
    assert_true(ms < 5000);
    dc_table_release(&t);
}

static void test_rounding(void **state)
{
    (void)state;
    const int64_t m[] = {12, 17, 23, 40};
    dc_table t;
    table2(&t, 2, 2, m);
    disclosure_opts o = {.threshold = 10, .rounding = 5};
    assert_int_equal(disclosure_apply(&t, &o), 0);
    for (size_t i = 0; i < t.ncells; i++)
        assert_int_equal(t.count[i] % 5, 0);
    assert_int_equal(t.count[0], 10); /* 12 -> 10 */
    assert_int_equal(t.count[1], 15); /* 17 -> 15 */
    json_t *d = disclosure_describe(&t, &o);
    assert_int_equal(json_integer_value(json_object_get(d, "rounding")), 5);
    json_decref(d);
    dc_table_release(&t);
}

static void test_noise_distributions(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    const int n = 200000;
    double sum = 0, sq = 0, b = 2.0;
    for (int i = 0; i < n; i++) {
        double x = disclosure_laplace(b);
        sum += x;
        sq += x * x;
    }
    double mean = sum / n, var = sq / n - mean * mean;
    assert_true(fabs(mean) < 0.05);
    assert_true(fabs(var - 2 * b * b) < 0.4); /* Laplace variance 2b^2 = 8 */
    double alpha = exp(-0.5);
    sum = sq = 0;
    for (int i = 0; i < n; i++) {
        double x = (double)disclosure_geometric(alpha);
        sum += x;
        sq += x * x;
    }
    mean = sum / n;
    var = sq / n - mean * mean;
    double expect = 2 * alpha / ((1 - alpha) * (1 - alpha));
    assert_true(fabs(mean) < 0.05);
    assert_true(fabs(var - expect) / expect < 0.05);
}

static void test_dp_table_counts_stay_natural(void **state)
{
    (void)state;
    const int64_t m[] = {100, 200, 300, 400};
    dc_table t;
    table2(&t, 2, 2, m);
    disclosure_opts o = {
        .threshold = 10, .mechanism = DP_GEOMETRIC, .epsilon = 1.0, .sensitivity = 4};
    disclosure_apply(&t, &o);
    for (size_t i = 0; i < t.ncells; i++)
        assert_true(t.count[i] >= 0);
    json_t *d = disclosure_describe(&t, &o);
    const json_t *dp = json_object_get(d, "dp");
    assert_string_equal(json_string_value(json_object_get(dp, "mechanism")), "geometric");
    assert_true(json_real_value(json_object_get(dp, "epsilon")) == 1.0);
    json_decref(d);
    dc_table_release(&t);
}

static void test_table_bounds(void **state)
{
    (void)state;
    dc_table t;
    amp_err err = {0};
    size_t big[4] = {2000, 2000, 2, 2};
    assert_int_equal(dc_table_init(&t, 4, big, &err), AMP_ETOOBIG);
    amp_err_clear(&err);
    size_t ok[1] = {3};
    assert_int_equal(dc_table_init(&t, 5, ok, &err), AMP_EBADREQ);
    amp_err_clear(&err);
}

static void test_ledger(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    principal p = e->who;
    p.internal = true;
    amp_err err = {0};
    double spent = 0;
    /* the default dataset of an entity is created on first use, budget 10 */
    assert_int_equal(disclosure_ledger_spend(e->core, &p, "cases", true, 4, "first", &spent, &err),
                     AMP_OK);
    assert_true(fabs(spent - 4) < 1e-9);
    assert_int_equal(
        disclosure_ledger_spend(e->core, &p, "cases", true, 5.5, "second", &spent, &err), AMP_OK);
    assert_true(fabs(spent - 9.5) < 1e-9);
    /* over budget: refused, nothing spent */
    assert_int_equal(
        disclosure_ledger_spend(e->core, &p, "cases", true, 0.6, "third", &spent, &err),
        AMP_ESTATE);
    amp_err_clear(&err);
    json_t *l = NULL;
    assert_int_equal(disclosure_ledger_get(e->core, &p, "cases", &l, &err), AMP_OK);
    assert_true(fabs(json_number_value(json_object_get(l, "spent")) - 9.5) < 1e-9);
    assert_true(json_number_value(json_object_get(l, "budget")) == DC_DEFAULT_BUDGET);
    assert_true(json_is_true(json_object_get(l, "defined")));
    assert_int_equal(json_array_size(json_object_get(l, "releases")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(l, "releases"), 1), "release")),
                        "second");
    json_decref(l);
    /* bad names and epsilons */
    assert_int_equal(
        disclosure_ledger_spend(e->core, &p, "bad name!", true, 0.1, "x", &spent, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "dataset", "pattern"));
    amp_err_clear(&err);
    assert_int_equal(disclosure_ledger_spend(e->core, &p, "cases", true, -1, "x", &spent, &err),
                     AMP_EINVALID);
    amp_err_clear(&err);
    /* an unknown dataset reads as not defined, nothing spent */
    assert_int_equal(disclosure_ledger_get(e->core, &p, "never", &l, &err), AMP_OK);
    assert_true(json_number_value(json_object_get(l, "spent")) == 0);
    assert_true(json_is_false(json_object_get(l, "defined")));
    json_decref(l);
    tu_env_free(e);
}

/* Datasets and budgets belong to administrators; a spend reads the budget. */
static void test_ledger_datasets_are_defined_by_administrators(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    principal admin = e->who;
    admin.internal = true;
    principal sysadmin = {.actor = "root", .lang = "en", .roles = ROLE_SYSADMIN};
    principal analyst = {.actor = "ana", .lang = "en", .org = "o", .roles = ROLE_ANALYST};
    amp_err err = {0};
    double spent = 0;
    /* a non-administrator cannot invent a dataset (a fresh budget) */
    assert_int_equal(
        disclosure_ledger_spend(e->core, &analyst, "mine1", false, 4, "x", &spent, &err),
        AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "dataset", "defined"));
    amp_err_clear(&err);
    json_t *l = NULL;
    assert_int_equal(disclosure_ledger_get(e->core, &admin, "mine1", &l, &err), AMP_OK);
    assert_true(json_is_false(json_object_get(l, "defined"))); /* nothing was created */
    json_decref(l);
    /* nor define one or set a budget */
    assert_int_equal(disclosure_ledger_define(e->core, &analyst, "strict", 100, &err),
                     AMP_EFORBIDDEN);
    amp_err_clear(&err);
    /* the default dataset of its release is created for it, with the default budget */
    assert_int_equal(
        disclosure_ledger_spend(e->core, &analyst, "stays", true, 4, "x", &spent, &err), AMP_OK);
    /* an administrator defines "strict" with a budget of 1 */
    assert_int_equal(disclosure_ledger_define(e->core, &admin, "strict", 1, &err), AMP_OK);
    assert_int_equal(
        disclosure_ledger_spend(e->core, &admin, "strict", false, 0.5, "a", &spent, &err), AMP_OK);
    /* the stored budget is enforced for everyone, and never overwritten */
    assert_int_equal(
        disclosure_ledger_spend(e->core, &analyst, "strict", false, 4, "b", &spent, &err),
        AMP_ESTATE);
    amp_err_clear(&err);
    assert_int_equal(
        disclosure_ledger_spend(e->core, &analyst, "strict", false, 0.5, "c", &spent, &err),
        AMP_OK);
    assert_true(fabs(spent - 1.0) < 1e-9);
    assert_int_equal(disclosure_ledger_get(e->core, &analyst, "strict", &l, &err), AMP_OK);
    assert_true(json_number_value(json_object_get(l, "budget")) == 1.0);
    assert_true(fabs(json_number_value(json_object_get(l, "spent")) - 1.0) < 1e-9);
    json_decref(l);
    /* a system administrator raises it; what was spent stays */
    assert_int_equal(disclosure_ledger_define(e->core, &sysadmin, "strict", 3, &err), AMP_OK);
    assert_int_equal(
        disclosure_ledger_spend(e->core, &analyst, "strict", false, 2, "d", &spent, &err), AMP_OK);
    assert_true(fabs(spent - 3.0) < 1e-9);
    assert_int_equal(
        disclosure_ledger_spend(e->core, &analyst, "strict", false, 0.1, "e", &spent, &err),
        AMP_ESTATE);
    amp_err_clear(&err);
    /* an administrator's spend on an unknown dataset creates it, default budget */
    assert_int_equal(disclosure_ledger_spend(e->core, &admin, "fresh", false, 1, "f", &spent, &err),
                     AMP_OK);
    assert_int_equal(disclosure_ledger_get(e->core, &admin, "fresh", &l, &err), AMP_OK);
    assert_true(json_number_value(json_object_get(l, "budget")) == DC_DEFAULT_BUDGET);
    json_decref(l);
    /* budgets outside (0, 1000] are refused */
    assert_int_equal(disclosure_ledger_define(e->core, &admin, "strict", 0, &err), AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "budget", "range"));
    amp_err_clear(&err);
    assert_int_equal(disclosure_ledger_define(e->core, &admin, "strict", 1001, &err), AMP_EINVALID);
    amp_err_clear(&err);
    tu_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primary_and_secondary),
        cmocka_unit_test(test_zero_is_not_suppressed),
        cmocka_unit_test(test_single_category_line_hides_total),
        cmocka_unit_test(test_small_total_suppressed),
        cmocka_unit_test(test_random_tables_never_derivable),
        cmocka_unit_test(test_bridge_table_audited),
        cmocka_unit_test(test_few_small_cells_modest_suppression),
        cmocka_unit_test(test_random_tables_audited),
        cmocka_unit_test(test_mentions_table_audited),
        cmocka_unit_test(test_non_additive_lines_ignored),
        cmocka_unit_test(test_four_dims_fast_enough),
        cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_noise_distributions),
        cmocka_unit_test(test_dp_table_counts_stay_natural),
        cmocka_unit_test(test_table_bounds),
        cmocka_unit_test(test_ledger),
        cmocka_unit_test(test_ledger_datasets_are_defined_by_administrators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
