/* disclosure.c — suppression, rounding and differentially private noise of
 * aggregate tables, and the privacy-budget ledger (see disclosure.h). */
#include "core/disclosure.h"
#include "core/audit.h"
#include "core/core.h"
#include "util/clock.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== tables ================================================================= */

amp_code dc_table_init(dc_table *t, int ndims, const size_t *size, amp_err *err)
{
    memset(t, 0, sizeof *t);
    if (ndims < 1 || ndims > DC_MAX_DIMS)
        return amp_err_set(err, AMP_EBADREQ, "a table has 1 to %d dimensions", DC_MAX_DIMS);
    size_t n = 1;
    for (int d = 0; d < ndims; d++) {
        t->size[d] = size[d];
        if (size[d] + 1 > DC_MAX_CELLS / n)
            return amp_err_set(err, AMP_ETOOBIG,
                               "the table would have more than %u cells: use fewer dimensions "
                               "or filters",
                               DC_MAX_CELLS);
        n *= size[d] + 1;
    }
    t->ndims = ndims;
    t->ncells = n;
    t->count = calloc(n, sizeof *t->count);
    t->status = calloc(n, sizeof *t->status);
    if (!t->count || !t->status) {
        dc_table_release(t);
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    return AMP_OK;
}

void dc_table_release(dc_table *t)
{
    free(t->count);
    free(t->status);
    memset(t, 0, sizeof *t);
}

static size_t stride_of(const dc_table *t, int d)
{
    size_t s = 1;
    for (int e = t->ndims - 1; e > d; e--)
        s *= t->size[e] + 1;
    return s;
}

size_t dc_index(const dc_table *t, const size_t *idx)
{
    size_t i = 0;
    for (int d = 0; d < t->ndims; d++)
        i = i * (t->size[d] + 1) + idx[d];
    return i;
}

/* ==== suppression ================================================================ */

/* The relations of a table: along dimension d, the line through a cell is the
 * n_d category cells and their total (index n_d), the other coordinates fixed
 * (at categories or totals).  A line "holds" when its categories add up to its
 * total in the counts being published; single-valued dimensions and counts of
 * mentions always hold, a multi-valued dimension counted as cases only where
 * no case has several values.  Only lines that hold can be used by someone
 * working back from the published figures, and all of them can. */

static size_t line_start(const dc_table *t, size_t cell, int d, size_t stride)
{
    return cell - ((cell / stride) % (t->size[d] + 1)) * stride;
}

static bool line_holds(const dc_table *t, size_t start, int d, size_t stride)
{
    int64_t sum = 0;
    for (size_t k = 0; k < t->size[d]; k++)
        sum += t->count[start + k * stride];
    return sum == t->count[start + t->size[d] * stride];
}

/* How many dimensions of the cell are at their total (0: an inner cell). */
static int margin_level(const dc_table *t, size_t cell)
{
    int level = 0;
    for (int d = t->ndims - 1; d >= 0; d--) {
        level += cell % (t->size[d] + 1) == t->size[d];
        cell /= t->size[d] + 1;
    }
    return level;
}

/* Arithmetic modulo the Mersenne prime 2^61 - 1.  Determination is a question
 * of linear algebra over the rationals; the constraint matrices have entries
 * 0 and ±1, so an answer modulo a prime this large differs from the rational
 * one only if the prime divides one of the few relevant minors (for 2-D tables,
 * which are totally unimodular, never). */
#define DC_P ((uint64_t)0x1FFFFFFFFFFFFFFFull)

static uint64_t mod_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 x = (unsigned __int128)a * b;
    uint64_t r = (uint64_t)(x & DC_P) + (uint64_t)(x >> 61);
    return r >= DC_P ? r - DC_P : r;
}

static uint64_t mod_pow(uint64_t a, uint64_t e)
{
    uint64_t r = 1;
    for (; e; e >>= 1, a = mod_mul(a, a))
        if (e & 1)
            r = mod_mul(r, a);
    return r;
}

/* v -= f * b over columns [0, n) */
static void row_sub(uint64_t *v, uint64_t f, const uint64_t *b, size_t n)
{
    uint64_t nf = DC_P - f;
    for (size_t j = 0; j < n; j++) {
        if (!b[j])
            continue;
        uint64_t x = v[j] + mod_mul(nf, b[j]);
        v[j] = x >= DC_P ? x - DC_P : x;
    }
}

/* The reduced row echelon basis of one component's constraints. */
typedef struct {
    size_t ncol, rank;
    uint64_t *rows; /* rank rows of ncol, each with a 1 at its pivot and 0 at other pivots */
    size_t *pivot;  /* pivot column of each row */
    size_t *row_of; /* per column: its row, or SIZE_MAX when not a pivot */
} rref;

static void rref_insert(rref *m, uint64_t *v)
{
    for (size_t r = 0; r < m->rank; r++) {
        uint64_t f = v[m->pivot[r]];
        if (f)
            row_sub(v, f, m->rows + r * m->ncol, m->ncol);
    }
    size_t c = 0;
    while (c < m->ncol && !v[c])
        c++;
    if (c == m->ncol)
        return; /* implied by the others */
    uint64_t inv = mod_pow(v[c], DC_P - 2);
    for (size_t j = c; j < m->ncol; j++)
        if (v[j])
            v[j] = mod_mul(v[j], inv);
    for (size_t r = 0; r < m->rank; r++) {
        uint64_t *b = m->rows + r * m->ncol;
        if (b[c])
            row_sub(b, b[c], v, m->ncol);
    }
    memcpy(m->rows + m->rank * m->ncol, v, m->ncol * sizeof *v);
    m->pivot[m->rank] = c;
    m->row_of[c] = m->rank++;
}

/* Union-find over the withheld cells. */
static size_t uf_find(size_t *parent, size_t x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

typedef struct {
    int d;
    size_t start;
} dc_line;

typedef struct {
    dc_table *t;
    size_t stride[DC_MAX_DIMS];
    size_t nunk;
    size_t *unk_cell; /* withheld cell of each unknown */
    size_t *unk_of;   /* per cell: its unknown, or SIZE_MAX when shown */
    dc_line *lines;   /* lines that hold and hold an unknown */
    size_t nlines;
} audit_ctx;

/* Withholds every shown non-zero cell on the lines reachable from the
 * component of unknowns comp[0..n) (the cells of a line that holds, and then
 * of the lines through those, until closed).  Once closed, the withheld values
 * can all be scaled by a common factor without breaking any relation, so none
 * of them is determined.  Returns the cells added. */
static size_t close_component(audit_ctx *a, const size_t *comp, size_t n)
{
    dc_table *t = a->t;
    size_t *queue = malloc(t->ncells * sizeof *queue), head = 0, tail = 0, added = 0;
    bool *seen = calloc(t->ncells, 1);
    if (!queue || !seen) { /* no memory to reason: withhold every non-zero cell */
        for (size_t i = 0; i < t->ncells; i++)
            if (t->status[i] == DC_SHOWN && t->count[i] > 0) {
                t->status[i] = DC_SECONDARY;
                added++;
            }
        free(queue);
        free(seen);
        return added;
    }
    for (size_t k = 0; k < n; k++) {
        queue[tail++] = a->unk_cell[comp[k]];
        seen[a->unk_cell[comp[k]]] = true;
    }
    while (head < tail) {
        size_t cell = queue[head++];
        for (int d = 0; d < t->ndims; d++) {
            size_t s = line_start(t, cell, d, a->stride[d]);
            if (!line_holds(t, s, d, a->stride[d]))
                continue;
            for (size_t k = 0; k <= t->size[d]; k++) {
                size_t i = s + k * a->stride[d];
                if (seen[i] || t->count[i] == 0)
                    continue;
                seen[i] = true;
                queue[tail++] = i;
                if (t->status[i] == DC_SHOWN) {
                    t->status[i] = DC_SECONDARY;
                    added++;
                }
            }
        }
    }
    free(queue);
    free(seen);
    return added;
}

/* Decides which unknowns of one component are determined; marks them in
 * det[unknown].  Returns false when out of memory. */
static bool audit_component(audit_ctx *a, const size_t *comp, size_t n, const size_t *local,
                            const size_t *comp_lines, size_t nl, bool *det)
{
    dc_table *t = a->t;
    rref m = {.ncol = n};
    size_t maxrank = nl < n ? nl : n;
    m.rows = malloc((maxrank ? maxrank : 1) * n * sizeof *m.rows);
    m.pivot = malloc((maxrank ? maxrank : 1) * sizeof *m.pivot);
    m.row_of = malloc(n * sizeof *m.row_of);
    uint64_t *v = malloc(n * sizeof *v);
    bool ok = m.rows && m.pivot && m.row_of && v;
    for (size_t j = 0; ok && j < n; j++)
        m.row_of[j] = SIZE_MAX;
    for (size_t r = 0; ok && r < nl && m.rank < n; r++) {
        const dc_line *ln = &a->lines[comp_lines[r]];
        size_t stride = a->stride[ln->d];
        memset(v, 0, n * sizeof *v);
        for (size_t k = 0; k <= t->size[ln->d]; k++) {
            size_t u = a->unk_of[ln->start + k * stride];
            if (u != SIZE_MAX)
                v[local[u]] = k < t->size[ln->d] ? 1 : DC_P - 1;
        }
        rref_insert(&m, v);
    }
    for (size_t j = 0; ok && j < n; j++) {
        size_t r = m.row_of[j];
        if (r == SIZE_MAX)
            continue;
        const uint64_t *row = m.rows + r * n;
        size_t nz = 0;
        for (size_t k = 0; k < n && nz < 2; k++)
            nz += row[k] != 0;
        det[comp[j]] = nz == 1;
    }
    free(m.rows);
    free(m.pivot);
    free(m.row_of);
    free(v);
    return ok;
}

typedef struct {
    size_t ndet;   /* withheld cells found determined */
    size_t *det;   /* their cells (ndet) */
    size_t closed; /* cells withheld to close components too large to audit */
    bool failed;   /* out of memory */
} audit_result;

/* The exact audit (see disclosure.h). */
static void audit(dc_table *t, audit_result *res)
{
    memset(res, 0, sizeof *res);
    audit_ctx a = {.t = t};
    for (int d = 0; d < t->ndims; d++)
        a.stride[d] = stride_of(t, d);
    size_t total_lines = 0;
    for (int d = 0; d < t->ndims; d++)
        total_lines += t->ncells / (t->size[d] + 1);
    a.unk_of = malloc(t->ncells * sizeof *a.unk_of);
    a.unk_cell = malloc(t->ncells * sizeof *a.unk_cell);
    a.lines = malloc((total_lines ? total_lines : 1) * sizeof *a.lines);
    size_t *parent = malloc(t->ncells * sizeof *parent), *local = NULL, *order = NULL,
           *lorder = NULL, *first = NULL;
    bool *det = NULL;
    if (!a.unk_of || !a.unk_cell || !a.lines || !parent)
        goto oom;
    for (size_t i = 0; i < t->ncells; i++) {
        a.unk_of[i] = SIZE_MAX;
        if (t->status[i] != DC_SHOWN) {
            a.unk_of[i] = a.nunk;
            parent[a.nunk] = a.nunk;
            a.unk_cell[a.nunk++] = i;
        }
    }
    if (!a.nunk)
        goto done;
    for (int d = 0; d < t->ndims; d++) {
        size_t stride = a.stride[d], len = t->size[d] + 1;
        for (size_t s = 0; s < t->ncells; s++) {
            if ((s / stride) % len)
                continue;
            bool any = false;
            for (size_t k = 0; k < len && !any; k++)
                any = a.unk_of[s + k * stride] != SIZE_MAX;
            if (any && line_holds(t, s, d, stride))
                a.lines[a.nlines++] = (dc_line){d, s};
        }
    }
    /* components: unknowns linked through lines that hold */
    for (size_t l = 0; l < a.nlines; l++) {
        size_t stride = a.stride[a.lines[l].d], root = SIZE_MAX;
        for (size_t k = 0; k <= t->size[a.lines[l].d]; k++) {
            size_t u = a.unk_of[a.lines[l].start + k * stride];
            if (u == SIZE_MAX)
                continue;
            size_t r = uf_find(parent, u);
            if (root == SIZE_MAX)
                root = r;
            else if (r != root)
                parent[r] = root;
        }
    }
    /* group unknowns and lines by component (counting sort by root) */
    local = malloc(a.nunk * sizeof *local);
    order = malloc(a.nunk * sizeof *order);
    first = calloc(a.nunk + 1, sizeof *first);
    lorder = malloc((a.nlines ? a.nlines : 1) * sizeof *lorder);
    size_t *lfirst = calloc(a.nunk + 1, sizeof *lfirst);
    det = calloc(a.nunk, sizeof *det);
    res->det = malloc(a.nunk * sizeof *res->det);
    if (!local || !order || !first || !lorder || !lfirst || !det || !res->det) {
        free(lfirst);
        goto oom;
    }
    for (size_t u = 0; u < a.nunk; u++)
        first[uf_find(parent, u) + 1]++;
    for (size_t l = 0; l < a.nlines; l++) {
        size_t stride = a.stride[a.lines[l].d];
        size_t k = 0;
        while (a.unk_of[a.lines[l].start + k * stride] == SIZE_MAX)
            k++;
        lfirst[uf_find(parent, a.unk_of[a.lines[l].start + k * stride]) + 1]++;
    }
    for (size_t r = 0; r < a.nunk; r++) {
        first[r + 1] += first[r];
        lfirst[r + 1] += lfirst[r];
    }
    {
        size_t *fill = malloc((a.nunk + 1) * sizeof *fill);
        if (!fill) {
            free(lfirst);
            goto oom;
        }
        memcpy(fill, first, (a.nunk + 1) * sizeof *fill);
        for (size_t u = 0; u < a.nunk; u++) {
            size_t r = uf_find(parent, u);
            local[u] = fill[r] - first[r];
            order[fill[r]++] = u;
        }
        memcpy(fill, lfirst, (a.nunk + 1) * sizeof *fill);
        for (size_t l = 0; l < a.nlines; l++) {
            size_t stride = a.stride[a.lines[l].d];
            size_t k = 0;
            while (a.unk_of[a.lines[l].start + k * stride] == SIZE_MAX)
                k++;
            lorder[fill[uf_find(parent, a.unk_of[a.lines[l].start + k * stride])]++] = l;
        }
        free(fill);
    }
    for (size_t r = 0; r < a.nunk; r++) {
        size_t n = first[r + 1] - first[r], nl = lfirst[r + 1] - lfirst[r];
        if (!n || !nl)
            continue; /* no relation reaches these unknowns */
        if (n > DC_AUDIT_MAX_UNKNOWNS) {
            res->closed += close_component(&a, order + first[r], n);
            continue;
        }
        if (!audit_component(&a, order + first[r], n, local, lorder + lfirst[r], nl, det)) {
            free(lfirst);
            goto oom;
        }
    }
    free(lfirst);
    for (size_t u = 0; u < a.nunk; u++)
        if (det[u])
            res->det[res->ndet++] = a.unk_cell[u];
    goto done;
oom:
    res->failed = true;
done:
    free(a.unk_of);
    free(a.unk_cell);
    free(a.lines);
    free(parent);
    free(local);
    free(order);
    free(first);
    free(lorder);
    free(det);
}

/* How many lines that hold through a cell already hold a withheld cell. */
static int withheld_lines(const dc_table *t, const size_t *stride, size_t cell)
{
    int n = 0;
    for (int d = 0; d < t->ndims; d++) {
        size_t s = line_start(t, cell, d, stride[d]);
        bool any = false;
        for (size_t k = 0; k <= t->size[d] && !any; k++)
            any = s + k * stride[d] != cell && t->status[s + k * stride[d]] != DC_SHOWN;
        n += any && line_holds(t, s, d, stride[d]);
    }
    return n;
}

/* The complement of a determined cell: a shown non-zero cell on a line that
 * holds, as close to the cell as possible (first its own lines, then the lines
 * of the withheld cells they link it to, and so on: a cell whose own lines are
 * all withheld is determined through farther ones); among the nearest, one on
 * the line with fewest withheld cells, then the one on most other lines that
 * already hold withheld cells (it hides them together: the corner that closes
 * a rectangle), then an inner cell before a margin, then the smallest count.  SIZE_MAX when the
 * cell reaches none, or out of memory. */
static size_t complement_of(const dc_table *t, const size_t *stride, size_t cell, size_t *queue,
                            bool *seen)
{
    size_t head = 0, tail = 0, best = SIZE_MAX;
    queue[tail++] = cell;
    seen[cell] = true;
    int best_hidden = 0, best_level = 0, best_links = 0;
    while (head < tail && best == SIZE_MAX) {
        size_t layer_end = tail;
        for (; head < layer_end; head++) {
            size_t x = queue[head];
            for (int d = 0; d < t->ndims; d++) {
                size_t s = line_start(t, x, d, stride[d]);
                if (!line_holds(t, s, d, stride[d]))
                    continue;
                int hidden = 0; /* a line with one withheld cell is the leak itself */
                for (size_t k = 0; k <= t->size[d]; k++)
                    hidden += t->status[s + k * stride[d]] != DC_SHOWN;
                for (size_t k = 0; k <= t->size[d]; k++) {
                    size_t i = s + k * stride[d];
                    if (t->status[i] != DC_SHOWN) {
                        if (!seen[i]) {
                            seen[i] = true;
                            queue[tail++] = i;
                        }
                        continue;
                    }
                    if (t->count[i] <= 0)
                        continue;
                    int level = margin_level(t, i), links = withheld_lines(t, stride, i);
                    if (best == SIZE_MAX || hidden < best_hidden ||
                        (hidden == best_hidden &&
                         (links > best_links ||
                          (links == best_links &&
                           (level < best_level ||
                            (level == best_level && t->count[i] < t->count[best])))))) {
                        best = i;
                        best_hidden = hidden;
                        best_level = level;
                        best_links = links;
                    }
                }
            }
        }
    }
    for (size_t k = 0; k < tail; k++) /* leave the scratch clean for the next call */
        seen[queue[k]] = false;
    return best;
}

size_t disclosure_suppress(dc_table *t, int threshold)
{
    size_t n = 0;
    if (threshold <= 1)
        return 0;
    for (size_t i = 0; i < t->ncells; i++) {
        if (t->count[i] >= 1 && t->count[i] < threshold && t->status[i] == DC_SHOWN) {
            t->status[i] = DC_PRIMARY;
            n++;
        }
    }
    if (!n)
        return 0;
    size_t stride[DC_MAX_DIMS];
    for (int d = 0; d < t->ndims; d++)
        stride[d] = stride_of(t, d);
    bool *touched = calloc(t->ncells, 1), *seen = calloc(t->ncells, 1);
    size_t *queue = malloc(t->ncells * sizeof *queue); /* scratch of complement_of */
    /* audit, withhold a complement for each determined cell, audit again */
    for (;;) {
        audit_result r;
        audit(t, &r);
        size_t added = r.closed;
        if (r.failed || !touched || !seen ||
            !queue) { /* cannot audit: publish nothing that is not zero */
            for (size_t i = 0; i < t->ncells; i++)
                if (t->status[i] == DC_SHOWN && t->count[i] > 0) {
                    t->status[i] = DC_SECONDARY;
                    added++;
                }
            free(r.det);
            n += added;
            break;
        }
        memset(touched, 0, t->ncells);
        for (size_t k = 0; k < r.ndet; k++) {
            size_t cell = r.det[k];
            if (touched[cell])
                continue; /* a complement was just added on one of its lines */
            size_t c = complement_of(t, stride, cell, queue, seen);
            if (c == SIZE_MAX) {
                /* no shown cell is linked to it (or no memory): close its
                 * component */
                size_t u = 0;
                audit_ctx a = {.t = t};
                for (int d = 0; d < t->ndims; d++)
                    a.stride[d] = stride[d];
                a.unk_cell = &cell;
                added += close_component(&a, &u, 1);
                continue;
            }
            t->status[c] = DC_SECONDARY;
            added++;
            for (int d = 0; d < t->ndims; d++) {
                size_t s = line_start(t, c, d, stride[d]);
                for (size_t j = 0; j <= t->size[d]; j++)
                    touched[s + j * stride[d]] = true;
            }
        }
        free(r.det);
        n += added;
        if (!added)
            break;
    }
    free(touched);
    free(seen);
    free(queue);
    return n;
}

/* ==== noise ======================================================================= */

/* Uniform on (0, 1), never 0 or 1. */
static double uniform01(void)
{
    uint64_t r;
    randombytes_buf(&r, sizeof r);
    return ((double)(r >> 11) + 0.5) / 9007199254740992.0;
}

double disclosure_laplace(double b)
{
    double u = uniform01() - 0.5;
    return -b * (u < 0 ? -1.0 : 1.0) * log(1.0 - 2.0 * fabs(u));
}

/* A geometric draw: failures before the first success, success probability 1 - alpha. */
static int64_t geometric1(double alpha)
{
    double g = floor(log(uniform01()) / log(alpha));
    return g > 1e12 ? (int64_t)1e12 : (int64_t)g;
}

int64_t disclosure_geometric(double alpha)
{
    if (alpha <= 0)
        return 0;
    return geometric1(alpha) - geometric1(alpha);
}

static void add_noise(dc_table *t, const disclosure_opts *o)
{
    double delta = o->sensitivity > 0 ? o->sensitivity : 1.0;
    for (size_t i = 0; i < t->ncells; i++) {
        int64_t v;
        if (o->mechanism == DP_GEOMETRIC)
            v = t->count[i] + disclosure_geometric(exp(-o->epsilon / delta));
        else
            v = (int64_t)llround((double)t->count[i] + disclosure_laplace(delta / o->epsilon));
        t->count[i] = v < 0 ? 0 : v; /* post-processing keeps the guarantee */
    }
}

size_t disclosure_apply(dc_table *t, const disclosure_opts *o)
{
    if (o->mechanism != DP_NONE && o->epsilon > 0)
        add_noise(t, o);
    size_t n = disclosure_suppress(t, o->threshold);
    if (o->rounding > 1) {
        for (size_t i = 0; i < t->ncells; i++) {
            int64_t b = o->rounding, v = t->count[i];
            t->count[i] = (v + b / 2) / b * b;
        }
    }
    return n;
}

json_t *disclosure_describe(const dc_table *t, const disclosure_opts *o)
{
    size_t prim = 0, sec = 0;
    for (size_t i = 0; i < t->ncells; i++) {
        prim += t->status[i] == DC_PRIMARY;
        sec += t->status[i] == DC_SECONDARY;
    }
    json_t *dp = json_null();
    if (o->mechanism != DP_NONE && o->epsilon > 0)
        dp = json_pack("{s:s, s:f, s:f, s:s}", "mechanism",
                       o->mechanism == DP_GEOMETRIC ? "geometric" : "laplace", "epsilon",
                       o->epsilon, "sensitivity", o->sensitivity > 0 ? o->sensitivity : 1.0, "note",
                       "every count, totals included, carries independent noise");
    return json_pack("{s:b, s:i, s:o, s:I, s:I, s:o}", "applied", 1, "threshold", o->threshold,
                     "rounding", o->rounding > 1 ? json_integer(o->rounding) : json_null(),
                     "suppressed_primary", (json_int_t)prim, "suppressed_secondary",
                     (json_int_t)sec, "dp", dp);
}

/* ==== the privacy budget ledger ===================================================== */

#define LEDGER_KIND "dp_ledger"
#define LEDGER_MAX_RELEASES 5000

static bool dataset_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

bool disclosure_is_admin(const principal *p)
{
    return p->internal || (p->roles & ROLE_SYSADMIN);
}

static amp_code bad_dataset(amp_err *err)
{
    amp_err_field(err, "dataset", "pattern", "1 to 32 of A-Z a-z 0-9 _ . -");
    return amp_err_set(err, AMP_EINVALID, "invalid dataset name");
}

/* A ledger record that does not exist yet: nothing spent, the given budget. */
static void ledger_new(store_record *r, const char *uid, const char *dataset, double budget)
{
    memset(r, 0, sizeof *r);
    snprintf(r->kind, sizeof r->kind, "%s", LEDGER_KIND);
    snprintf(r->uid, sizeof r->uid, "%s", uid);
    snprintf(r->status, sizeof r->status, "%s", dataset);
    r->doc = json_pack("{s:s, s:f, s:f, s:[]}", "dataset", dataset, "spent", 0.0, "budget", budget,
                       "releases");
}

/* The budget stored in a ledger record (records written before budgets were
 * stored: the default). */
static double ledger_budget(const json_t *doc)
{
    const json_t *b = json_object_get(doc, "budget");
    return json_is_number(b) && json_number_value(b) > 0 ? json_number_value(b) : DC_DEFAULT_BUDGET;
}

static void ledger_stamp(store_record *r, int64_t expected, const principal *p, const char *now)
{
    snprintf(r->updated_at, sizeof r->updated_at, "%s", now);
    snprintf(r->updated_by, sizeof r->updated_by, "%s", p->actor);
    if (!expected) {
        snprintf(r->created_at, sizeof r->created_at, "%s", now);
        snprintf(r->created_by, sizeof r->created_by, "%s", p->actor);
    }
}

typedef struct {
    const principal *p;
    const char *dataset, *release;
    bool may_create;
    double epsilon, budget, spent;
} spend_job;

enum { JOB_OVER_BUDGET = 100, JOB_UNDEFINED = 101 };

/* The ledger record of dataset (uid "dp:NAME", in uid[40]) into r, and its
 * version into *expected; when it is not stored yet, a new one with budget
 * `create` (version 0), or STORE_NOTFOUND when create is 0. */
static int ledger_load(store_tx *tx, const char *dataset, double create, char uid[40],
                       store_record *r, int64_t *expected)
{
    memset(r, 0, sizeof *r);
    *expected = 0;
    snprintf(uid, 40, "dp:%s", dataset);
    int rc = store_tx_record_get(tx, LEDGER_KIND, uid, r);
    if (rc == STORE_OK)
        *expected = r->version;
    else if (rc == STORE_NOTFOUND && create > 0) {
        ledger_new(r, uid, dataset, create);
        rc = STORE_OK;
    }
    return rc;
}

static int job_spend(store_tx *tx, void *arg)
{
    spend_job *j = arg;
    store_record r;
    char uid[40];
    int64_t expected;
    int rc = ledger_load(tx, j->dataset, j->may_create ? DC_DEFAULT_BUDGET : 0, uid, &r, &expected);
    if (rc == STORE_NOTFOUND)
        return JOB_UNDEFINED;
    if (rc != STORE_OK)
        return rc;
    /* the budget is the stored one: a spend never changes it */
    j->budget = ledger_budget(r.doc);
    double spent = json_number_value(json_object_get(r.doc, "spent"));
    if (spent + j->epsilon > j->budget + 1e-12) {
        j->spent = spent;
        store_record_release(&r);
        return JOB_OVER_BUDGET;
    }
    char now[32];
    clock_now(now);
    json_t *rels = json_object_get(r.doc, "releases");
    if (!json_is_array(rels)) {
        rels = json_array();
        json_object_set_new(r.doc, "releases", rels);
    }
    while (json_array_size(rels) >= LEDGER_MAX_RELEASES)
        json_array_remove(rels, 0); /* the running total keeps them all */
    json_array_append_new(rels, json_pack("{s:s, s:s, s:f, s:s}", "at", now, "actor", j->p->actor,
                                          "epsilon", j->epsilon, "release", j->release));
    j->spent = spent + j->epsilon;
    json_object_set_new(r.doc, "spent", json_real(j->spent));
    json_object_set_new(r.doc, "budget", json_real(j->budget));
    ledger_stamp(&r, expected, j->p, now);
    rc = store_tx_record_put(tx, &r, expected);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s, s:f, s:f}", "dataset", j->dataset, "epsilon", j->epsilon,
                                   "spent", j->spent);
        audit_tx(tx, j->p, "report.dp_spend", "dp_ledger", uid, detail);
        json_decref(detail);
    }
    store_record_release(&r);
    return rc;
}

amp_code disclosure_ledger_spend(core *c, const principal *p, const char *dataset, bool is_default,
                                 double epsilon, const char *release, double *spent, amp_err *err)
{
    if (!dataset_ok(dataset))
        return bad_dataset(err);
    if (!(epsilon > 0) || epsilon > 100) {
        amp_err_field(err, "epsilon", "range", "epsilon must be greater than 0 and at most 100");
        return amp_err_set(err, AMP_EINVALID, "invalid epsilon");
    }
    spend_job j = {.p = p,
                   .dataset = dataset,
                   .release = release ? release : "",
                   .may_create = is_default || disclosure_is_admin(p),
                   .epsilon = epsilon};
    int rc = store_run(core_store(c), job_spend, &j);
    if (spent)
        *spent = j.spent;
    if (rc == JOB_UNDEFINED) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "dataset '%s' is not defined: an administrator defines datasets and their "
                 "budgets (amparo report ledger DATASET budget=B)",
                 dataset);
        amp_err_field(err, "dataset", "defined", msg);
        return amp_err_set(err, AMP_EINVALID, "%s", msg);
    }
    if (rc == JOB_OVER_BUDGET)
        return amp_err_set(err, AMP_ESTATE,
                           "the privacy budget of '%s' would be exceeded: %.3g of %.3g spent, "
                           "%.3g asked",
                           dataset, j.spent, j.budget, epsilon);
    if (rc != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the privacy ledger could not be written");
    return AMP_OK;
}

typedef struct {
    const principal *p;
    const char *dataset;
    double budget, spent;
} define_job;

static int job_define(store_tx *tx, void *arg)
{
    define_job *j = arg;
    store_record r;
    char uid[40];
    int64_t expected;
    int rc = ledger_load(tx, j->dataset, j->budget, uid, &r, &expected);
    if (rc != STORE_OK)
        return rc;
    double before = expected ? ledger_budget(r.doc) : 0;
    j->spent = json_number_value(json_object_get(r.doc, "spent"));
    json_object_set_new(r.doc, "budget", json_real(j->budget));
    char now[32];
    clock_now(now);
    ledger_stamp(&r, expected, j->p, now);
    rc = store_tx_record_put(tx, &r, expected);
    if (rc == STORE_OK) {
        json_t *detail = json_pack("{s:s, s:f, s:f, s:f}", "dataset", j->dataset, "budget",
                                   j->budget, "budget_before", before, "spent", j->spent);
        audit_tx(tx, j->p, "report.dp_budget", "dp_ledger", uid, detail);
        json_decref(detail);
    }
    store_record_release(&r);
    return rc;
}

amp_code disclosure_ledger_define(core *c, const principal *p, const char *dataset, double budget,
                                  amp_err *err)
{
    if (!disclosure_is_admin(p))
        return amp_err_set(err, AMP_EFORBIDDEN,
                           "only an administrator defines a dataset or sets its privacy budget");
    if (!dataset_ok(dataset))
        return bad_dataset(err);
    if (!(budget > 0) || budget > 1000) {
        amp_err_field(err, "budget", "range", "budget must be a number in (0, 1000]");
        return amp_err_set(err, AMP_EINVALID, "invalid budget");
    }
    define_job j = {.p = p, .dataset = dataset, .budget = budget};
    if (store_run(core_store(c), job_define, &j) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the privacy ledger could not be written");
    return AMP_OK;
}

amp_code disclosure_ledger_get(core *c, const principal *p, const char *dataset, json_t **out,
                               amp_err *err)
{
    *out = NULL;
    /* an administrator who keeps the budgets reads them too (no figures in it) */
    amp_code code = disclosure_is_admin(p) ? AMP_OK : authz_require(p, ACT_READ, RES_REPORT, err);
    if (code != AMP_OK)
        return code;
    if (!dataset_ok(dataset))
        return bad_dataset(err);
    char uid[40];
    snprintf(uid, sizeof uid, "dp:%s", dataset);
    store_record r;
    memset(&r, 0, sizeof r);
    int rc = store_record_get(core_store(c), LEDGER_KIND, uid, &r);
    if (rc == STORE_NOTFOUND) {
        *out = json_pack("{s:s, s:b, s:f, s:[]}", "dataset", dataset, "defined", 0, "spent", 0.0,
                         "releases");
        return AMP_OK;
    }
    if (rc != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the privacy ledger could not be read");
    *out = json_incref(r.doc);
    json_object_set_new(*out, "budget", json_real(ledger_budget(r.doc)));
    json_object_set_new(*out, "defined", json_true());
    store_record_release(&r);
    return AMP_OK;
}
