/* report_render.c — crosstab answers as CSV and XLSX (see report.h). */
#include "core/report.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

static void csv_field(buf *b, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        buf_adds(b, s);
        return;
    }
    buf_addc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_addc(b, '"');
        buf_addc(b, *s);
    }
    buf_addc(b, '"');
}

static const char *measure_key(const json_t *t)
{
    const char *m = json_string_value(json_object_get(t, "measure"));
    if (!m || strcmp(m, "count") == 0)
        return NULL;
    return strncmp(m, "sum:", 4) == 0 ? "sum" : "mean";
}

static void number_text(const json_t *v, char *out, size_t n)
{
    if (json_is_integer(v))
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, n, "%.10g", json_real_value(v));
    else
        out[0] = 0;
}

bool report_naming_parse(const char *s, report_naming *out)
{
    static const char *const names[] = {"codes", "labels", "both"};
    for (int i = 0; i < 3; i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = (report_naming)i;
            return true;
        }
    }
    return false;
}

/* ---- the words of a file, and the labels of one table ------------------------- */

enum { W_COUNT, W_SUM, W_MEAN, W_FLAG, W_SUPPRESSED, W_TOTAL, W_NOTES, W_DC_TITLE, W_DC_TEXT };
/* the codes spelling first (the file as it was before labels), then en, es, fr, uk */
static const char *const words[][5] = {
    [W_COUNT] = {"count", "Number", "Número", "Nombre", "Кількість"},
    [W_SUM] = {"sum", "Sum", "Suma", "Somme", "Сума"},
    [W_MEAN] = {"mean", "Mean", "Media", "Moyenne", "Середнє"},
    [W_FLAG] = {"flag", "Note", "Nota", "Note", "Примітка"},
    [W_SUPPRESSED] = {"suppressed", "suppressed", "suprimido", "masqué", "приховано"},
    [W_TOTAL] = {"Total", "Total", "Total", "Total", "Усього"},
    [W_NOTES] = {"Notes", "Notes", "Notas", "Notes", "Примітки"},
    [W_DC_TITLE] = {"Disclosure control", "Disclosure control", "Control de divulgación",
                    "Contrôle de la divulgation", "Контроль розкриття"},
    [W_DC_TEXT] = {"Cells marked 'suppressed' are withheld (fewer cases than the threshold, or "
                   "withheld so that they cannot be derived from totals). They are not zero.",
                   "Cells marked 'suppressed' are withheld (fewer cases than the threshold, or "
                   "withheld so that they cannot be derived from totals). They are not zero.",
                   "Las celdas marcadas «suprimido» se ocultan (hay menos casos que el umbral, o "
                   "se ocultan para que no puedan deducirse de los totales). No son cero.",
                   "Les cellules marquées « masqué » sont retenues (moins de cas que le seuil, "
                   "ou retenues pour qu'on ne puisse pas les déduire des totaux). Elles ne valent "
                   "pas zéro.",
                   "Клітинки з позначкою «приховано» не показано (випадків менше за поріг або їх "
                   "приховано, щоб їх не можна було вивести з підсумків). Це не нуль."},
};

typedef struct {
    const report_render_opts *o;
    int li; /* 1..4: en, es, fr, uk; 0: the codes spelling */
    const char *lang;
    size_t nd;
    json_t *names[4]; /* per dimension: {code: label in lang} */
    const char *dim_label[4];
} naming;

static const char *word(const naming *n, int w)
{
    return words[w][n->li];
}

/* 1..4 (en, es, fr, uk) for a file that shows labels, 0 for codes only */
static int lang_index(const report_render_opts *o, const char **lang)
{
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    *lang = "en";
    if (!o || o->naming == REPORT_CODES)
        return 0;
    for (int i = 0; i < 4; i++)
        if (o->lang && strcmp(o->lang, langs[i]) == 0) {
            *lang = langs[i];
            return i + 1;
        }
    return 1;
}

static void naming_init(naming *n, const json_t *t, const report_render_opts *o)
{
    memset(n, 0, sizeof *n);
    n->o = o;
    n->li = lang_index(o, &n->lang);
    bool labelled = n->li > 0;
    const json_t *dims = json_object_get(t, "dims");
    n->nd = json_array_size(dims);
    if (n->nd > 4)
        n->nd = 4;
    for (size_t d = 0; labelled && d < n->nd; d++) {
        const char *dim = json_string_value(json_array_get(dims, d));
        const json_t *dl = json_array_get(json_object_get(t, "dimension_labels"), d);
        n->dim_label[d] = json_string_value(json_object_get(dl, n->lang));
        n->names[d] = json_object();
        size_t i;
        const json_t *c;
        json_array_foreach (json_object_get(json_object_get(t, "categories"), dim ? dim : ""), i,
                            c) {
            const char *code = json_string_value(json_object_get(c, "code"));
            const json_t *l = json_object_get(json_object_get(c, "label"), n->lang);
            if (code && json_is_string(l))
                json_object_set(n->names[d], code, (json_t *)l);
        }
    }
}

static void naming_release(naming *n)
{
    for (size_t d = 0; d < 4; d++)
        json_decref(n->names[d]);
}

static bool shows_codes(const naming *n)
{
    return !n->o || n->o->naming != REPORT_LABELS;
}

static bool shows_labels(const naming *n)
{
    return n->o && n->o->naming != REPORT_CODES;
}

/* The heading(s) of dimension d: its name, its label, or both. */
static int dim_headings(const naming *n, const json_t *t, size_t d, const char *out[2])
{
    int k = 0;
    const char *name = json_string_value(json_array_get(json_object_get(t, "dims"), d));
    if (shows_codes(n))
        out[k++] = name ? name : "";
    if (shows_labels(n))
        out[k++] = n->dim_label[d] ? n->dim_label[d] : (name ? name : "");
    return k;
}

/* The text(s) of a cell's key for dimension d (a code, or null in margins). */
static int key_texts(const naming *n, size_t d, const json_t *key, const char *out[2])
{
    int k = 0;
    const char *code = json_string_value(key);
    if (shows_codes(n))
        out[k++] = code ? code : word(n, W_TOTAL);
    if (shows_labels(n)) {
        const char *l =
            code && d < n->nd ? json_string_value(json_object_get(n->names[d], code)) : NULL;
        out[k++] = code ? (l ? l : code) : word(n, W_TOTAL);
    }
    return k;
}

static int measure_word(const char *mk)
{
    return strcmp(mk, "sum") == 0 ? W_SUM : W_MEAN;
}

/* ---- notes: what a table counts, over whom, under what control ---------------- */

/* The plain-text notes of a table, one sentence a line, into b (each line ends
 * with '\n'): what the figures count (cases, mentions, records…), the
 * population and who was left out, the disclosure control applied, and the
 * table's own notes.  Files carry them because a file travels without the JSON
 * beside it. */
static void table_notes(buf *b, const json_t *t)
{
    char line[600];
    const char *what = json_string_value(json_object_get(t, "counts_what"));
    const char *entity = json_string_value(json_object_get(t, "entity"));
    const char *note = json_string_value(json_object_get(t, "counts_note"));
    const json_t *pop = json_object_get(t, "population");
    if (entity && strcmp(entity, "cases") != 0)
        snprintf(line, sizeof line,
                 "Figures count records of %s (one per record, not per person)%s%s.", entity,
                 what && strcmp(what, "mentions") == 0 ? "; multi-valued fields count each value"
                                                       : "",
                 "");
    else if (what && strcmp(what, "mentions") == 0)
        snprintf(line, sizeof line,
                 "Figures count mentions: a case with several values counts once in each, and "
                 "totals add up those mentions (a total is not a number of people).");
    else if (what && strcmp(what, "cases") == 0)
        snprintf(line, sizeof line, "Figures count cases (people)%s%s", note ? ": " : ".",
                 note ? "a case with several values counts once in each, but once only in "
                        "totals, so cells may add up to more than the total."
                      : "");
    else if (what)
        snprintf(line, sizeof line, "Figures count %s.", what);
    else
        line[0] = 0;
    if (line[0]) {
        buf_adds(b, line);
        buf_addc(b, '\n');
    }
    if (json_is_object(pop)) {
        const json_t *nc = json_object_get(pop, "cases"), *nr = json_object_get(pop, "records");
        const json_t *ex = json_object_get(pop, "excluded_without_statistics_consent");
        const char *scope = json_string_value(json_object_get(pop, "scope"));
        const json_t *as = json_object_get(pop, "assisted");
        int o = 0;
        if (json_is_integer(nc) || json_is_integer(nr))
            o = snprintf(line, sizeof line, "Population: %lld %s",
                         (long long)json_integer_value(json_is_integer(nc) ? nc : nr),
                         json_is_integer(nc) ? "cases" : "records");
        else
            o = snprintf(line, sizeof line, "Population:");
        if (json_is_object(as) && o < (int)sizeof line)
            o += snprintf(line + o, sizeof line - (size_t)o, " helped between %s and %s",
                          json_string_value(json_object_get(as, "from")),
                          json_string_value(json_object_get(as, "to")));
        if (scope && o < (int)sizeof line)
            o += snprintf(line + o, sizeof line - (size_t)o, ", %s",
                          strcmp(scope, "organisation") == 0 ? "of the caller's organisation only"
                                                             : "of every organisation");
        if (json_is_integer(ex) && o < (int)sizeof line)
            o += snprintf(line + o, sizeof line - (size_t)o,
                          "; %lld left out because their consent does not allow statistics",
                          (long long)json_integer_value(ex));
        if (o < (int)sizeof line)
            snprintf(line + o, sizeof line - (size_t)o, ".");
        buf_adds(b, line);
        buf_addc(b, '\n');
    }
    const json_t *dc = json_object_get(t, "disclosure");
    if (json_is_object(dc)) {
        if (json_is_true(json_object_get(dc, "applied"))) {
            int o = snprintf(
                line, sizeof line,
                "Disclosure control: counts below %lld withheld (%lld cells), %lld "
                "more withheld so that they cannot be worked out from totals",
                (long long)json_integer_value(json_object_get(dc, "threshold")),
                (long long)json_integer_value(json_object_get(dc, "suppressed_primary")),
                (long long)json_integer_value(json_object_get(dc, "suppressed_secondary")));
            const json_t *r = json_object_get(dc, "rounding"), *dp = json_object_get(dc, "dp");
            if (json_is_integer(r) && o < (int)sizeof line)
                o += snprintf(line + o, sizeof line - (size_t)o, "; counts rounded to %lld",
                              (long long)json_integer_value(r));
            if (json_is_object(dp) && o < (int)sizeof line)
                o += snprintf(line + o, sizeof line - (size_t)o,
                              "; %s noise with epsilon %g on every count",
                              json_string_value(json_object_get(dp, "mechanism")),
                              json_number_value(json_object_get(dp, "epsilon")));
            if (o < (int)sizeof line)
                snprintf(line + o, sizeof line - (size_t)o, ".");
        } else {
            const char *reason = json_string_value(json_object_get(dc, "reason"));
            snprintf(line, sizeof line, "No disclosure control: %s.",
                     reason ? reason : "internal figures");
        }
        buf_adds(b, line);
        buf_addc(b, '\n');
    }
    static const char *const more[] = {"measure_note", "note", "pack_population", "error"};
    for (size_t k = 0; k < sizeof more / sizeof *more; k++) {
        const char *m = json_string_value(json_object_get(t, more[k]));
        if (!m)
            continue;
        if (strcmp(more[k], "pack_population") == 0)
            buf_adds(b, "Who the report counts: ");
        else if (strcmp(more[k], "error") == 0)
            buf_adds(b, "This table could not be computed: ");
        buf_adds(b, m);
        buf_addc(b, '\n');
    }
}

/* A list table ("columns": [{key, label}], "items": [{...}]), such as the
 * indicators against targets: one line per item. */
static bool is_list_table(const json_t *t)
{
    return json_is_array(json_object_get(t, "columns")) &&
           json_is_array(json_object_get(t, "items"));
}

/* The text of an item's value: numbers as numbers, booleans yes/no, null empty. */
static void item_text(const json_t *v, char *out, size_t n)
{
    if (json_is_string(v))
        snprintf(out, n, "%s", json_string_value(v));
    else if (json_is_boolean(v))
        snprintf(out, n, "%s", json_is_true(v) ? "yes" : "no");
    else if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v))
        snprintf(out, n, "%lld", (long long)json_real_value(v));
    else
        number_text(v, out, n);
}

/* The notes of a table as text, one per line (to free), or NULL. */
static char *notes_text(const json_t *t)
{
    buf notes;
    buf_init(&notes);
    table_notes(&notes, t);
    size_t len = 0;
    return buf_detach(&notes, &len);
}

/* Writes the notes of a table as "# line" CSV comments. */
static void csv_notes(buf *b, const json_t *t)
{
    char *text = notes_text(t);
    if (!text)
        return;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        buf_adds(b, "# ");
        buf_adds(b, l);
        buf_adds(b, "\r\n");
    }
    free(text);
}

/* ---- CSV ---------------------------------------------------------------------- */

static void csv_rows(buf *b, const naming *n, const json_t *t, const json_t *cells)
{
    const char *mk = measure_key(t);
    size_t i;
    const json_t *cell;
    json_array_foreach (cells, i, cell) {
        size_t k;
        const json_t *key;
        bool first = true;
        json_array_foreach (json_object_get(cell, "keys"), k, key) {
            const char *texts[2];
            int nt = key_texts(n, k, key, texts);
            for (int x = 0; x < nt; x++) {
                if (!first)
                    buf_addc(b, ',');
                first = false;
                csv_field(b, texts[x]);
            }
        }
        char num[64];
        number_text(json_object_get(cell, "count"), num, sizeof num);
        buf_addc(b, ',');
        buf_adds(b, num);
        if (mk) {
            number_text(json_object_get(cell, mk), num, sizeof num);
            buf_addc(b, ',');
            buf_adds(b, num);
        }
        buf_addc(b, ',');
        if (json_is_true(json_object_get(cell, "suppressed")))
            csv_field(b, word(n, W_SUPPRESSED));
        buf_adds(b, "\r\n");
    }
}

static void csv_list(buf *b, const json_t *t, const report_render_opts *o)
{
    bool codes = !o || o->naming == REPORT_CODES;
    size_t i, k;
    const json_t *c, *item;
    const json_t *cols = json_object_get(t, "columns");
    json_array_foreach (cols, k, c) {
        if (k)
            buf_addc(b, ',');
        csv_field(b, json_string_value(json_object_get(c, codes ? "key" : "label")));
    }
    buf_adds(b, codes ? ",flag\r\n" : ",Note\r\n");
    json_array_foreach (json_object_get(t, "items"), i, item) {
        json_array_foreach (cols, k, c) {
            char text[256];
            item_text(json_object_get(item, json_string_value(json_object_get(c, "key"))), text,
                      sizeof text);
            if (k)
                buf_addc(b, ',');
            csv_field(b, text);
        }
        buf_addc(b, ',');
        if (json_is_true(json_object_get(item, "suppressed")))
            buf_adds(b, "suppressed");
        buf_adds(b, "\r\n");
    }
}

static void csv_table(buf *b, const json_t *t, const report_render_opts *o)
{
    if (is_list_table(t) || !json_object_get(t, "cells")) { /* a list, or a table in error */
        if (is_list_table(t))
            csv_list(b, t, o);
        csv_notes(b, t);
        return;
    }
    naming n;
    naming_init(&n, t, o);
    size_t nd = json_array_size(json_object_get(t, "dims"));
    bool first = true;
    for (size_t d = 0; d < nd; d++) {
        const char *h[2];
        int nh = dim_headings(&n, t, d, h);
        for (int x = 0; x < nh; x++) {
            if (!first)
                buf_addc(b, ',');
            first = false;
            csv_field(b, h[x]);
        }
    }
    buf_addc(b, ',');
    csv_field(b, word(&n, W_COUNT));
    const char *mk = measure_key(t);
    if (mk) {
        buf_addc(b, ',');
        csv_field(b, word(&n, measure_word(mk)));
    }
    buf_addc(b, ',');
    csv_field(b, word(&n, W_FLAG));
    buf_adds(b, "\r\n");
    csv_rows(b, &n, t, json_object_get(t, "cells"));
    csv_rows(b, &n, t, json_object_get(t, "totals"));
    csv_notes(b, t);
    naming_release(&n);
}

char *report_render_csv(const json_t *table, const report_render_opts *o, size_t *len)
{
    buf b;
    buf_init(&b);
    csv_table(&b, table, o);
    return buf_detach(&b, len);
}

char *report_render_csv_pack(const json_t *tables, const report_render_opts *o, size_t *len)
{
    buf b;
    buf_init(&b);
    size_t i;
    const json_t *t;
    json_array_foreach (tables, i, t) {
        if (i)
            buf_adds(&b, "\r\n");
        const char *title = json_string_value(json_object_get(t, "title"));
        if (title) {
            buf_adds(&b, "# ");
            buf_adds(&b, title);
            buf_adds(&b, "\r\n");
        }
        csv_table(&b, t, o);
    }
    return buf_detach(&b, len);
}

/* ---- XLSX -------------------------------------------------------------------- */

static void sheet_name(const json_t *t, size_t index, char out[32])
{
    const char *title = json_string_value(json_object_get(t, "name"));
    char tmp[64];
    if (!title) {
        size_t i, o = 0;
        const json_t *d;
        tmp[0] = 0;
        json_array_foreach (json_object_get(t, "dims"), i, d)
            o += (size_t)snprintf(tmp + o, o < sizeof tmp ? sizeof tmp - o : 0, "%s%s",
                                  i ? "x" : "", json_string_value(d));
        title = tmp;
    }
    /* Excel: at most 31 characters, none of []:*?/\ ; unique (index prefix) */
    char clean[27];
    size_t k = 0;
    for (const char *s = title; *s && k < 26; s++)
        clean[k++] = strchr("[]:*?/\\", *s) ? '_' : *s;
    clean[k] = 0;
    snprintf(out, 32, "%u %.26s", (unsigned)(index % 1000 + 1), clean);
}

static void xlsx_rows(lxw_worksheet *ws, lxw_row_t *row, const naming *n, const json_t *t,
                      const json_t *cells, lxw_format *sup)
{
    const char *mk = measure_key(t);
    size_t i;
    const json_t *cell;
    json_array_foreach (cells, i, cell) {
        size_t k;
        const json_t *key;
        lxw_col_t col = 0;
        json_array_foreach (json_object_get(cell, "keys"), k, key) {
            const char *texts[2];
            int nt = key_texts(n, k, key, texts);
            for (int x = 0; x < nt; x++)
                worksheet_write_string(ws, *row, col++, texts[x], NULL);
        }
        const json_t *cnt = json_object_get(cell, "count");
        bool suppressed = json_is_true(json_object_get(cell, "suppressed"));
        if (suppressed)
            worksheet_write_string(ws, *row, col++, word(n, W_SUPPRESSED), sup);
        else
            worksheet_write_number(ws, *row, col++, (double)json_integer_value(cnt), NULL);
        if (mk) {
            const json_t *v = json_object_get(cell, mk);
            if (json_is_number(v))
                worksheet_write_number(ws, *row, col, json_number_value(v), NULL);
            col++;
        }
        (*row)++;
    }
}

/* Writes the notes of a table from row *row of column col, one line a row. */
static void xlsx_notes(lxw_worksheet *ws, lxw_row_t *row, lxw_col_t col, const json_t *t)
{
    char *text = notes_text(t);
    if (!text)
        return;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        worksheet_write_string(ws, (*row)++, col, l, NULL);
    free(text);
}

static void xlsx_list(lxw_worksheet *ws, lxw_row_t *row, const json_t *t,
                      const report_render_opts *o, lxw_format *bold, lxw_format *sup)
{
    bool codes = !o || o->naming == REPORT_CODES;
    size_t i, k;
    const json_t *c, *item;
    const json_t *cols = json_object_get(t, "columns");
    json_array_foreach (cols, k, c)
        worksheet_write_string(ws, *row, (lxw_col_t)k,
                               json_string_value(json_object_get(c, codes ? "key" : "label")),
                               bold);
    (*row)++;
    json_array_foreach (json_object_get(t, "items"), i, item) {
        json_array_foreach (cols, k, c) {
            const json_t *v = json_object_get(item, json_string_value(json_object_get(c, "key")));
            char text[256];
            if (json_is_number(v)) {
                worksheet_write_number(ws, *row, (lxw_col_t)k, json_number_value(v), NULL);
            } else if (json_is_null(v) && json_is_true(json_object_get(item, "suppressed"))) {
                worksheet_write_string(ws, *row, (lxw_col_t)k, "suppressed", sup);
            } else {
                item_text(v, text, sizeof text);
                if (text[0])
                    worksheet_write_string(ws, *row, (lxw_col_t)k, text, NULL);
            }
        }
        (*row)++;
    }
    worksheet_set_column(ws, 0, (lxw_col_t)(json_array_size(cols) ? json_array_size(cols) - 1 : 0),
                         18, NULL);
}

unsigned char *report_render_xlsx(const json_t *tables, const report_render_opts *o, size_t *len)
{
    char path[] = "/tmp/amparo-xlsx-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    close(fd);
    lxw_workbook_options opt = {
        .constant_memory = LXW_FALSE, .tmpdir = NULL, .use_zip64 = LXW_FALSE};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    if (!wb) {
        unlink(path);
        return NULL;
    }
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    lxw_format *sup = workbook_add_format(wb);
    format_set_italic(sup);
    format_set_font_color(sup, LXW_COLOR_GRAY);
    lxw_worksheet *notes_ws = NULL;
    size_t i;
    const json_t *t;
    json_array_foreach (tables, i, t) {
        char name[32];
        sheet_name(t, i, name);
        lxw_worksheet *ws = workbook_add_worksheet(wb, name);
        if (!ws)
            continue;
        lxw_row_t row = 0;
        const char *title = json_string_value(json_object_get(t, "title"));
        if (title)
            worksheet_write_string(ws, row++, 0, title, bold);
        if (is_list_table(t) || !json_object_get(t, "cells")) {
            if (is_list_table(t))
                xlsx_list(ws, &row, t, o, bold, sup);
            row++;
            xlsx_notes(ws, &row, 0, t);
            continue;
        }
        naming n;
        naming_init(&n, t, o);
        lxw_col_t col = 0;
        size_t nd = json_array_size(json_object_get(t, "dims"));
        for (size_t d = 0; d < nd; d++) {
            const char *h[2];
            int nh = dim_headings(&n, t, d, h);
            for (int x = 0; x < nh; x++)
                worksheet_write_string(ws, row, col++, h[x], bold);
        }
        worksheet_write_string(ws, row, col++, word(&n, W_COUNT), bold);
        const char *mk = measure_key(t);
        if (mk)
            worksheet_write_string(ws, row, col++, word(&n, measure_word(mk)), bold);
        row++;
        xlsx_rows(ws, &row, &n, t, json_object_get(t, "cells"), sup);
        xlsx_rows(ws, &row, &n, t, json_object_get(t, "totals"), sup);
        worksheet_set_column(ws, 0, (lxw_col_t)(col ? col - 1 : 0), 18, NULL);
        row++;
        xlsx_notes(ws, &row, 0, t);
        naming_release(&n);
    }
    naming words_of = {.o = o}; /* the file's language, for the notes */
    words_of.li = lang_index(o, &words_of.lang);
    notes_ws = workbook_add_worksheet(wb, word(&words_of, W_NOTES));
    if (notes_ws) {
        lxw_row_t row = 0;
        worksheet_write_string(notes_ws, row++, 0, word(&words_of, W_DC_TITLE), bold);
        worksheet_write_string(notes_ws, row++, 0, word(&words_of, W_DC_TEXT), NULL);
        json_array_foreach (tables, i, t) {
            char name[32];
            sheet_name(t, i, name);
            row++;
            worksheet_write_string(notes_ws, row, 0, name, bold);
            const char *title = json_string_value(json_object_get(t, "title"));
            if (title)
                worksheet_write_string(notes_ws, row, 1, title, bold);
            row++;
            xlsx_notes(notes_ws, &row, 1, t);
        }
        worksheet_set_column(notes_ws, 0, 0, 24, NULL);
    }
    if (workbook_close(wb) != LXW_NO_ERROR) {
        unlink(path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        data = n > 0 ? malloc((size_t)n) : NULL;
        if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
        if (data)
            *len = (size_t)n;
        fclose(f);
    }
    unlink(path);
    return data;
}
