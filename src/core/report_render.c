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

static void csv_rows(buf *b, const json_t *t, const json_t *cells)
{
    const char *mk = measure_key(t);
    size_t i;
    const json_t *cell;
    json_array_foreach (cells, i, cell) {
        size_t k;
        const json_t *key;
        json_array_foreach (json_object_get(cell, "keys"), k, key) {
            if (k)
                buf_addc(b, ',');
            csv_field(b, json_is_string(key) ? json_string_value(key) : "Total");
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
        buf_adds(b, json_is_true(json_object_get(cell, "suppressed")) ? "suppressed" : "");
        buf_adds(b, "\r\n");
    }
}

static void csv_table(buf *b, const json_t *t)
{
    size_t i;
    const json_t *d;
    json_array_foreach (json_object_get(t, "dims"), i, d) {
        if (i)
            buf_addc(b, ',');
        csv_field(b, json_string_value(d));
    }
    buf_adds(b, ",count");
    const char *mk = measure_key(t);
    if (mk) {
        buf_addc(b, ',');
        buf_adds(b, mk);
    }
    buf_adds(b, ",flag\r\n");
    csv_rows(b, t, json_object_get(t, "cells"));
    csv_rows(b, t, json_object_get(t, "totals"));
}

char *report_render_csv(const json_t *table, size_t *len)
{
    buf b;
    buf_init(&b);
    csv_table(&b, table);
    return buf_detach(&b, len);
}

char *report_render_csv_pack(const json_t *tables, size_t *len)
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
        csv_table(&b, t);
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

static void xlsx_rows(lxw_worksheet *ws, lxw_row_t *row, const json_t *t, const json_t *cells,
                      lxw_format *sup)
{
    const char *mk = measure_key(t);
    size_t i;
    const json_t *cell;
    json_array_foreach (cells, i, cell) {
        size_t k;
        const json_t *key;
        lxw_col_t col = 0;
        json_array_foreach (json_object_get(cell, "keys"), k, key)
            worksheet_write_string(ws, *row, col++,
                                   json_is_string(key) ? json_string_value(key) : "Total", NULL);
        const json_t *cnt = json_object_get(cell, "count");
        bool suppressed = json_is_true(json_object_get(cell, "suppressed"));
        if (suppressed)
            worksheet_write_string(ws, *row, col++, "suppressed", sup);
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

unsigned char *report_render_xlsx(const json_t *tables, size_t *len)
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
        size_t k;
        const json_t *d;
        lxw_col_t col = 0;
        json_array_foreach (json_object_get(t, "dims"), k, d)
            worksheet_write_string(ws, row, col++, json_string_value(d), bold);
        worksheet_write_string(ws, row, col++, "count", bold);
        const char *mk = measure_key(t);
        if (mk)
            worksheet_write_string(ws, row, col++, mk, bold);
        row++;
        xlsx_rows(ws, &row, t, json_object_get(t, "cells"), sup);
        xlsx_rows(ws, &row, t, json_object_get(t, "totals"), sup);
        worksheet_set_column(ws, 0, (lxw_col_t)(col ? col - 1 : 0), 18, NULL);
    }
    notes_ws = workbook_add_worksheet(wb, "Notes");
    if (notes_ws) {
        lxw_row_t row = 0;
        worksheet_write_string(notes_ws, row++, 0, "Disclosure control", bold);
        worksheet_write_string(notes_ws, row++, 0,
                               "Cells marked 'suppressed' are withheld (fewer cases than the "
                               "threshold, or withheld so that they cannot be derived from "
                               "totals). They are not zero.",
                               NULL);
        json_array_foreach (tables, i, t) {
            char *desc = json_dumps(json_object_get(t, "disclosure"), JSON_COMPACT);
            char name[32];
            sheet_name(t, i, name);
            worksheet_write_string(notes_ws, row, 0, name, NULL);
            worksheet_write_string(notes_ws, row++, 1, desc ? desc : "", NULL);
            free(desc);
            const char *note = json_string_value(json_object_get(t, "counts_note"));
            if (note)
                worksheet_write_string(notes_ws, row++, 1, note, NULL);
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
