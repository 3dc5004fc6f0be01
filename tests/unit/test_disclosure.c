/* test_disclosure.c — threshold and secondary suppression on crafted tables, an
 * independent check that no withheld cell can be derived from the shown ones,
 * rounding, noise distributions, and the privacy budget ledger. */
#include "core/disclosure.h"
#include "testutil.h"

#include <math.h>

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
    assert_int_equal(disclosure_ledger_spend(e->core, &p, "cases", 0.5, 1.0, "first", &spent, &err),
                     AMP_OK);
    assert_true(fabs(spent - 0.5) < 1e-9);
    assert_int_equal(
        disclosure_ledger_spend(e->core, &p, "cases", 0.4, 1.0, "second", &spent, &err), AMP_OK);
    assert_true(fabs(spent - 0.9) < 1e-9);
    /* over budget: refused, nothing spent */
    assert_int_equal(disclosure_ledger_spend(e->core, &p, "cases", 0.2, 1.0, "third", &spent, &err),
                     AMP_ESTATE);
    amp_err_clear(&err);
    json_t *l = NULL;
    assert_int_equal(disclosure_ledger_get(e->core, &p, "cases", &l, &err), AMP_OK);
    assert_true(fabs(json_number_value(json_object_get(l, "spent")) - 0.9) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(l, "releases")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(l, "releases"), 1), "release")),
                        "second");
    json_decref(l);
    /* another dataset has its own budget */
    assert_int_equal(disclosure_ledger_spend(e->core, &p, "stays", 0.9, 1.0, "x", &spent, &err),
                     AMP_OK);
    /* bad names and epsilons */
    assert_int_equal(disclosure_ledger_spend(e->core, &p, "bad name!", 0.1, 1.0, "x", &spent, &err),
                     AMP_EINVALID);
    assert_true(tu_has_field_error(&err, "dataset", "pattern"));
    amp_err_clear(&err);
    assert_int_equal(disclosure_ledger_spend(e->core, &p, "cases", -1, 1.0, "x", &spent, &err),
                     AMP_EINVALID);
    amp_err_clear(&err);
    /* an unknown dataset reads as nothing spent */
    assert_int_equal(disclosure_ledger_get(e->core, &p, "never", &l, &err), AMP_OK);
    assert_true(json_number_value(json_object_get(l, "spent")) == 0);
    json_decref(l);
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
        cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_noise_distributions),
        cmocka_unit_test(test_dp_table_counts_stay_natural),
        cmocka_unit_test(test_table_bounds),
        cmocka_unit_test(test_ledger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
