/* care_fields.c — the parts of the care modules that read raw input: field
 * tables and their validation, messages in four languages, list parameters,
 * periods and dates, merge patches, and the data files compiled in (picklists,
 * reintegration indicators).  Nothing here touches the store (see
 * care_common.c), so the fuzz target links only this file and the catalogue. */
#include "core/care_common.h"
#include "core/validate.h"
#include "util/log.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== data files ============================================================= */

extern const char amparo_care_picklists_json[], amparo_care_picklists_json_end[];
extern const char amparo_care_config_json[], amparo_care_config_json_end[];

static json_t *picklists, *config;
static pthread_once_t loaded = PTHREAD_ONCE_INIT;
static pthread_mutex_t config_mu = PTHREAD_MUTEX_INITIALIZER;

static json_t *load_embedded(const char *start, const char *end, const char *what)
{
    json_error_t je;
    json_t *doc = json_loadb(start, (size_t)(end - start), JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        log_error("care: the embedded %s is not valid JSON: %s (line %d)", what, je.text, je.line);
    return doc;
}

static void load_once(void)
{
    picklists = load_embedded(amparo_care_picklists_json, amparo_care_picklists_json_end,
                              "schema/care-picklists.json");
    if (!picklists)
        picklists = json_pack("{s:{}}", "picklists");
    config = load_embedded(amparo_care_config_json, amparo_care_config_json_end,
                           "schema/reintegration-indicators.json");
    if (!config)
        config = json_object();
    const char *path = getenv("AMPARO_CARE_CONFIG");
    if (path && *path) {
        char err[300];
        json_error_t je;
        json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (!doc)
            log_error("care: cannot read %s: %s (line %d); using the built-in indicators", path,
                      je.text, je.line);
        else if (care_config_check(doc, err, sizeof err) != 0)
            log_error("care: %s: %s; using the built-in indicators", path, err);
        else {
            json_decref(config);
            config = doc;
            doc = NULL;
        }
        json_decref(doc);
    }
}

const json_t *care_picklists(void)
{
    pthread_once(&loaded, load_once);
    return picklists;
}

const json_t *care_picklist_value(const char *list, const char *value)
{
    const json_t *pl = json_object_get(json_object_get(care_picklists(), "picklists"), list);
    size_t i;
    json_t *v;
    if (!value)
        return NULL;
    json_array_foreach (json_object_get(pl, "values"), i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        if (name && strcmp(name, value) == 0)
            return v;
    }
    return NULL;
}

bool care_picklist_has(const char *list, const char *value)
{
    return care_picklist_value(list, value) != NULL;
}

const json_t *care_config(void)
{
    pthread_once(&loaded, load_once);
    pthread_mutex_lock(&config_mu);
    const json_t *c = config;
    pthread_mutex_unlock(&config_mu);
    return c;
}

double care_config_number(const char *key, double dflt)
{
    const json_t *v = json_object_get(care_config(), key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static bool code_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 48)
        return false;
    for (; *s; s++) {
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return false;
    }
    return true;
}

static bool labels_ok(const json_t *label)
{
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    for (size_t i = 0; i < 4; i++) {
        const char *s = json_string_value(json_object_get(label, langs[i]));
        if (!s || !*s)
            return false;
    }
    return true;
}

#define cfg_fail(err, n, ...) (snprintf(err, n, __VA_ARGS__), -1)
#define S(x) ((x) ? (x) : "")

int care_config_check(const json_t *cfg, char *err, size_t n)
{
    static const struct {
        const char *key;
        double min, max;
    } nums[] = {{"sustainable_threshold", 0, 1},
                {"alert_drop", 0, 1},
                {"alert_below", 0, 1},
                {"default_visit_interval_days", 1, 3660},
                {"outcome_window_days", 1, 3660}};
    if (!json_is_object(cfg))
        return cfg_fail(err, n, "the configuration must be a JSON object");
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        const json_t *v = json_object_get(cfg, nums[i].key);
        if (!json_is_number(v) || json_number_value(v) < nums[i].min ||
            json_number_value(v) > nums[i].max)
            return cfg_fail(err, n, "'%s' must be a number from %g to %g", nums[i].key, nums[i].min,
                            nums[i].max);
    }
    const json_t *months = json_object_get(cfg, "outcome_months");
    if (!json_is_array(months) || json_array_size(months) == 0 || json_array_size(months) > 12)
        return cfg_fail(err, n, "'outcome_months' must list 1 to 12 numbers of months");
    size_t i;
    json_t *m;
    json_array_foreach (months, i, m) {
        if (!json_is_integer(m) || json_integer_value(m) < 1 || json_integer_value(m) > 120)
            return cfg_fail(err, n, "'outcome_months' holds a value outside 1-120");
    }
    const json_t *fw = json_object_get(cfg, "frameworks");
    static const char *const names[] = {"adult", "child"};
    json_t *seen = json_object();
    int rc = 0;
    for (size_t f = 0; f < 2 && rc == 0; f++) {
        const json_t *frame = json_object_get(fw, names[f]);
        const json_t *dims = json_object_get(frame, "dimensions");
        if (!labels_ok(json_object_get(frame, "label")) || !json_is_array(dims) ||
            json_array_size(dims) == 0 || json_array_size(dims) > 16) {
            rc = cfg_fail(err, n, "framework '%s' needs a label in en/es/fr/uk and 1-16 dimensions",
                          names[f]);
            break;
        }
        size_t d;
        json_t *dim;
        json_array_foreach (dims, d, dim) {
            const char *dc = json_string_value(json_object_get(dim, "code"));
            const json_t *w = json_object_get(dim, "weight"),
                         *inds = json_object_get(dim, "indicators");
            const json_t *below = json_object_get(dim, "alert_below");
            if (!code_ok(dc) || !json_is_number(w) || json_number_value(w) <= 0 ||
                !labels_ok(json_object_get(dim, "label")) || !json_is_array(inds) ||
                json_array_size(inds) == 0 || json_array_size(inds) > 64 ||
                (below && (!json_is_number(below) || json_number_value(below) < 0 ||
                           json_number_value(below) > 1))) {
                rc = cfg_fail(err, n,
                              "dimension '%s' of framework '%s' needs a code [a-z0-9_], a "
                              "positive weight, labels in en/es/fr/uk and 1-64 indicators",
                              S(dc), names[f]);
                break;
            }
            size_t k;
            json_t *ind;
            json_array_foreach (inds, k, ind) {
                const char *ic = json_string_value(json_object_get(ind, "code"));
                const json_t *iw = json_object_get(ind, "weight");
                if (!code_ok(ic) || !json_is_number(iw) || json_number_value(iw) <= 0 ||
                    !labels_ok(json_object_get(ind, "label"))) {
                    rc = cfg_fail(err, n,
                                  "indicator '%s' of dimension '%s' needs a code [a-z0-9_], a "
                                  "positive weight and labels in en/es/fr/uk",
                                  S(ic), dc);
                    break;
                }
                if (json_object_get(seen, ic)) {
                    rc = cfg_fail(err, n, "indicator code '%s' is used twice", ic);
                    break;
                }
                json_object_set_new(seen, ic, json_true());
            }
            if (rc)
                break;
        }
    }
    json_decref(seen);
    return rc;
}

int care_config_load_file(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    pthread_once(&loaded, load_once);
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        snprintf(err, errlen, "%s: %s (line %d)", path, je.text, je.line);
        return -1;
    }
    if (care_config_check(doc, err, errlen) != 0) {
        json_decref(doc);
        return -1;
    }
    pthread_mutex_lock(&config_mu);
    /* the previous document stays allocated (readers may still hold it); a few
     * replacements are kept reachable, later ones free the oldest */
    static json_t *retired[8];
    static unsigned nretired;
    json_decref(retired[nretired % 8]);
    retired[nretired++ % 8] = config;
    config = doc;
    pthread_mutex_unlock(&config_mu);
    return 0;
}

/* ==== messages =============================================================== */

typedef struct {
    const char *rule;
    const char *en, *es, *fr, *uk;
} care_msg_text;

static const care_msg_text care_messages[] = {
    {"date_order", "{f} cannot be before {d}", "{f} no puede ser anterior a {d}",
     "{f} ne peut pas précéder {d}", "{f} не може бути раніше за {d}"},
    {"over_capacity", "no free place for {d} in this shelter",
     "no hay plaza libre para {d} en esta casa de acogida",
     "aucune place libre pour {d} dans ce foyer", "у цьому притулку немає вільного місця для: {d}"},
    {"no_places", "this shelter has no places for {d}",
     "esta casa de acogida no tiene plazas para {d}", "ce foyer n'a pas de places pour {d}",
     "у цьому притулку немає місць для: {d}"},
    {"score_range", "{f} must be a score from 0 to 1", "{f} debe ser una puntuación de 0 a 1",
     "{f} doit être un score de 0 à 1", "{f} має бути оцінкою від 0 до 1"},
    {"unknown_indicator", "{f}: '{d}' is not an indicator of this framework",
     "{f}: '{d}' no es un indicador de este marco",
     "{f} : « {d} » n'est pas un indicateur de ce cadre", "{f}: '{d}' не є показником цієї рамки"},
    {"wrong_organisation", "{f} belongs to another organisation ({d})",
     "{f} pertenece a otra organización ({d})", "{f} appartient à une autre organisation ({d})",
     "{f} належить іншій організації ({d})"},
    {"not_in_case", "{f}: '{d}' is not a record of this case",
     "{f}: '{d}' no es un registro de este caso",
     "{f} : « {d} » n'est pas un enregistrement de ce dossier",
     "{f}: '{d}' не є записом цієї справи"},
    {"participant_totals", "{f} adds up to {d}, not to the number of participants",
     "{f} suma {d}, no el número de participantes",
     "{f} totalise {d}, et non le nombre de participants",
     "{f} у сумі дає {d}, а не кількість учасників"},
    {"stage_order", "{f}: {d}", "{f}: {d}", "{f} : {d}", "{f}: {d}"},
    {"currency", "{f} must be an ISO 4217 currency code such as USD",
     "{f} debe ser un código de moneda ISO 4217, p. ej. USD",
     "{f} doit être un code de devise ISO 4217, p. ex. USD",
     "{f} має бути кодом валюти ISO 4217, напр. USD"},
    {"uid", "{f} must be a record identifier (UUID)",
     "{f} debe ser un identificador de registro (UUID)",
     "{f} doit être un identifiant d'enregistrement (UUID)",
     "{f} має бути ідентифікатором запису (UUID)"},
    {"one_per_case", "this case already has {d}", "este caso ya tiene {d}", "ce dossier a déjà {d}",
     "ця справа вже має {d}"},
    {"period",
     "{f} must be a period such as 2026, 2026-Q2, 2026-H1, 2026-05 or 2026-01-01..2026-06-30",
     "{f} debe ser un período como 2026, 2026-Q2, 2026-H1, 2026-05 o 2026-01-01..2026-06-30",
     "{f} doit être une période comme 2026, 2026-Q2, 2026-H1, 2026-05 ou 2026-01-01..2026-06-30",
     "{f} має бути періодом, напр. 2026, 2026-Q2, 2026-H1, 2026-05 або 2026-01-01..2026-06-30"},
    {"unknown_measure", "{f}: '{d}' is not a measure", "{f}: '{d}' no es una medida",
     "{f} : « {d} » n'est pas une mesure", "{f}: '{d}' не є показником"},
    {"closed", "{f}: {d} is closed", "{f}: {d} está cerrado", "{f} : {d} est fermé",
     "{f}: {d} закрито"},
    {"required_when", "{f} is required when {d}", "{f} es obligatorio cuando {d}",
     "{f} est obligatoire lorsque {d}", "{f} є обов'язковим, коли {d}"},
};

/* Whole-answer messages ("{d}": the detail). */
static const care_msg_text care_top_messages[] = {
    {"over_capacity",
     "the shelter is full for {d}; add \"waiting_list\": true to put the person on its waiting "
     "list",
     "la casa de acogida no tiene plaza para {d}; añada \"waiting_list\": true para inscribir a la "
     "persona en su lista de espera",
     "le foyer est complet pour {d} ; ajoutez \"waiting_list\": true pour inscrire la personne sur "
     "sa liste d'attente",
     "у притулку немає місць для: {d}; додайте \"waiting_list\": true, щоб внести особу до списку "
     "очікування"},
    {"already_discharged", "the stay was already discharged on {d}",
     "la estancia ya terminó el {d}", "le séjour a déjà pris fin le {d}",
     "перебування вже завершено {d}"},
    {"not_admitted", "the stay is {d}: only an admitted person can be discharged",
     "la estancia está en estado {d}: solo se puede dar de alta a una persona ingresada",
     "le séjour est à l'état {d} : seule une personne admise peut sortir",
     "перебування має стан {d}: виписати можна лише прийняту особу"},
    {"not_waiting", "the stay is {d}: only a waiting-list entry can be admitted or cancelled",
     "la estancia está en estado {d}: solo una entrada de la lista de espera puede ingresar o "
     "cancelarse",
     "le séjour est à l'état {d} : seule une inscription en liste d'attente peut être admise ou "
     "annulée",
     "перебування має стан {d}: прийняти або скасувати можна лише запис у списку очікування"},
    {"already_admitted",
     "the person is already admitted in a shelter ({d}); discharge or transfer them first",
     "la persona ya está ingresada en una casa de acogida ({d}); dele de alta o trasládela primero",
     "la personne est déjà admise dans un foyer ({d}) ; faites-la d'abord sortir ou transférez-la",
     "особа вже перебуває в притулку ({d}); спершу випишіть або переведіть її"},
    {"erased", "the case was erased; its records can no longer change",
     "el caso fue borrado; sus registros ya no pueden cambiar",
     "le dossier a été effacé ; ses enregistrements ne peuvent plus changer",
     "справу стерто; її записи більше не можна змінювати"},
    {"no_plan", "the case has no reintegration plan: PUT /api/v1/cases/{id}/reintegration first",
     "el caso no tiene plan de reintegración: créelo antes con PUT "
     "/api/v1/cases/{id}/reintegration",
     "le dossier n'a pas de plan de réintégration : créez-le d'abord avec PUT "
     "/api/v1/cases/{id}/reintegration",
     "справа не має плану реінтеграції: спершу створіть його через PUT "
     "/api/v1/cases/{id}/reintegration"},
};

static int lang_index(const char *lang)
{
    if (lang && strncmp(lang, "es", 2) == 0)
        return 1;
    if (lang && strncmp(lang, "fr", 2) == 0)
        return 2;
    if (lang && strncmp(lang, "uk", 2) == 0)
        return 3;
    return 0;
}

static void render(char *out, size_t n, const char *tpl, const char *f, const char *d)
{
    size_t o = 0;
    for (const char *t = tpl; *t && o + 1 < n; t++) {
        if (t[0] == '{' && (t[1] == 'f' || t[1] == 'd') && t[2] == '}') {
            for (const char *s = t[1] == 'f' ? f : d; s && *s && o + 1 < n; s++)
                out[o++] = *s;
            t += 2;
            continue;
        }
        out[o++] = *t;
    }
    out[o] = '\0';
}

void care_field_error(amp_err *err, const principal *p, const char *field, const char *rule,
                      const char *detail)
{
    char msg[600];
    const char *lang = p ? p->lang : "en";
    for (size_t i = 0; i < sizeof care_messages / sizeof *care_messages; i++) {
        const care_msg_text *m = &care_messages[i];
        if (strcmp(m->rule, rule) == 0) {
            const char *t[] = {m->en, m->es, m->fr, m->uk};
            render(msg, sizeof msg, t[lang_index(lang)], field, detail ? detail : "");
            amp_err_field(err, field, rule, msg);
            return;
        }
    }
    validate_render(lang, rule, field, detail, msg, sizeof msg);
    amp_err_field(err, field, rule, msg);
}

void care_message(const principal *p, const char *key, const char *detail, char *out, size_t n)
{
    for (size_t i = 0; i < sizeof care_top_messages / sizeof *care_top_messages; i++) {
        const care_msg_text *m = &care_top_messages[i];
        if (strcmp(m->rule, key) == 0) {
            const char *t[] = {m->en, m->es, m->fr, m->uk};
            /* "{id}" in the paths is not a placeholder: render only {d} */
            const char *tpl = t[lang_index(p ? p->lang : "en")];
            size_t o = 0;
            for (const char *c = tpl; *c && o + 1 < n; c++) {
                if (c[0] == '{' && c[1] == 'd' && c[2] == '}') {
                    for (const char *d = detail ? detail : ""; *d && o + 1 < n; d++)
                        out[o++] = *d;
                    c += 2;
                } else {
                    out[o++] = *c;
                }
            }
            out[o] = '\0';
            return;
        }
    }
    snprintf(out, n, "%s", key);
}

amp_code care_invalid(amp_err *err, const principal *p)
{
    size_t n = json_array_size(err->fields);
    switch (lang_index(p ? p->lang : "en")) {
    case 1: return amp_err_set(err, AMP_EINVALID, "%zu campo(s) no son válidos", n);
    case 2: return amp_err_set(err, AMP_EINVALID, "%zu champ(s) non valides", n);
    case 3: return amp_err_set(err, AMP_EINVALID, "Недійсних полів: %zu", n);
    default:
        return amp_err_set(err, AMP_EINVALID, "%zu field%s invalid", n, n == 1 ? " is" : "s are");
    }
}

/* ==== fields ================================================================= */

static bool text_ok(const char *s)
{
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if (*u < 0x20 && *u != '\n' && *u != '\r' && *u != '\t')
            return false;
    }
    return true;
}

static bool utf8_valid(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len + 1);
    if (!out)
        return false;
    size_t n = utf8_sanitize(s, out, len + 1);
    bool ok = n == len && memcmp(out, s, len) == 0;
    free(out);
    return ok;
}

static const char *const *ignore_has(const char *const *ignore, const char *key)
{
    for (; ignore && *ignore; ignore++) {
        if (strcmp(*ignore, key) == 0)
            return ignore;
    }
    return NULL;
}

static const care_field *field_of(const care_field *fields, const char *name)
{
    for (; fields->name; fields++) {
        if (strcmp(fields->name, name) == 0)
            return fields;
    }
    return NULL;
}

#define PATH_MAX_LEN 256

/* out[PATH_MAX_LEN] = a + sep + b (cut when too long). */
static void join_path(char *out, const char *a, const char *sep, const char *b)
{
    size_t o = 0;
    const char *parts[] = {a ? a : "", sep ? sep : "", b ? b : ""};
    for (int i = 0; i < 3; i++) {
        for (const char *s = parts[i]; *s && o + 1 < PATH_MAX_LEN; s++)
            out[o++] = *s;
    }
    out[o] = '\0';
}

typedef struct {
    const care_lookup *lk;
    const principal *p;
    const char *today;
    amp_err *err;
    int count;
} vctx;

static bool org_exists(const vctx *v, const char *id)
{
    return id && v->lk && v->lk->org_exists && v->lk->org_exists(v->lk->arg, id);
}

/* A record identifier: 36 characters, hex digits and dashes at 8, 13, 18, 23. */
static bool uid_ok(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static void verr(vctx *v, const char *path, const char *rule, const char *detail)
{
    care_field_error(v->err, v->p, path, rule, detail);
    v->count++;
}

static void check_value(vctx *v, const care_field *f, const json_t *val, const char *path);

static void check_string(vctx *v, const care_field *f, const json_t *val, const char *path,
                         size_t dflt_max)
{
    if (!json_is_string(val)) {
        verr(v, path, "type", "text");
        return;
    }
    const char *s = json_string_value(val);
    size_t max = f->max > 0 ? (size_t)f->max : dflt_max;
    char d[32];
    if (!utf8_valid(s) || (f->type == CF_STRING && strchr(s, '\n')) || !text_ok(s)) {
        verr(v, path, "control_characters", NULL);
    } else if (utf8_length(s) > max) {
        snprintf(d, sizeof d, "%zu", max);
        verr(v, path, "max_length", d);
    } else if ((f->flags & CF_REQ) && !*s) {
        verr(v, path, "required", NULL);
    }
}

static void check_number(vctx *v, const care_field *f, const json_t *val, const char *path)
{
    char d[32];
    if (!json_is_number(val) || (f->type == CF_INT && !json_is_integer(val))) {
        if (f->type == CF_INT && json_is_real(val))
            verr(v, path, "integer", NULL);
        else
            verr(v, path, "type", "a number");
        return;
    }
    double x = json_number_value(val);
    if (!isfinite(x)) {
        verr(v, path, "type", "a number");
    } else if ((f->min != 0 || f->max != 0) && x < f->min) {
        snprintf(d, sizeof d, "%g", f->min);
        verr(v, path, "min", d);
    } else if ((f->min != 0 || f->max != 0) && x > f->max) {
        snprintf(d, sizeof d, "%g", f->max);
        verr(v, path, "max", d);
    }
}

static bool pick_ok(vctx *v, const care_field *f, const json_t *val, const char *path)
{
    if (!json_is_string(val)) {
        verr(v, path, "type", "text");
        return false;
    }
    if (!care_picklist_has(f->list, json_string_value(val))) {
        char d[80];
        utf8_sanitize(json_string_value(val), d, sizeof d);
        verr(v, path, "picklist", d);
        return false;
    }
    return true;
}

static void check_array(vctx *v, const care_field *f, const json_t *val, const char *path)
{
    if (!json_is_array(val)) {
        verr(v, path, "type", "a list");
        return;
    }
    size_t max = f->max > 0 ? (size_t)f->max : 64;
    char d[32], sub[PATH_MAX_LEN], idx[32];
    if (json_array_size(val) > max) {
        snprintf(d, sizeof d, "%zu", max);
        verr(v, path, "max_items", d);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach (val, i, e) {
        snprintf(idx, sizeof idx, "[%zu]", i);
        join_path(sub, path, idx, NULL);
        if (f->type == CF_OBJECTS) {
            if (!json_is_object(e)) {
                verr(v, sub, "type", "an object");
                continue;
            }
            char prefix[PATH_MAX_LEN];
            join_path(prefix, sub, ".", NULL);
            v->count +=
                care_validate_with(v->lk, v->p, f->sub, e, false, NULL, prefix, v->today, v->err);
            continue;
        }
        bool ok;
        if (f->type == CF_MULTI) {
            ok = pick_ok(v, f, e, sub);
        } else { /* CF_ORGS */
            ok = json_is_string(e) && org_exists(v, json_string_value(e));
            if (!ok)
                verr(v, sub, json_is_string(e) ? "lookup" : "type",
                     json_is_string(e) ? "organisation" : "text");
        }
        for (size_t k = 0; ok && k < i; k++) {
            if (json_equal(json_array_get(val, k), e)) {
                char dv[80];
                utf8_sanitize(json_string_value(e), dv, sizeof dv);
                verr(v, sub, "duplicate", dv);
                break;
            }
        }
    }
}

static void check_map(vctx *v, const care_field *f, const json_t *val, const char *path)
{
    if (!json_is_object(val)) {
        verr(v, path, "type", "an object");
        return;
    }
    const char *k;
    json_t *x;
    char sub[PATH_MAX_LEN];
    care_field num = {"", f->type == CF_COUNTS ? CF_INT : CF_NUMBER, 0, NULL, 0, 1e12, NULL};
    json_object_foreach ((json_t *)val, k, x) {
        join_path(sub, path, ".", k);
        if (!care_picklist_has(f->list, k)) {
            char d[80];
            utf8_sanitize(k, d, sizeof d);
            verr(v, sub, "picklist", d);
            continue;
        }
        if (json_is_null(x))
            continue;
        check_number(v, &num, x, sub);
    }
}

static void check_value(vctx *v, const care_field *f, const json_t *val, const char *path)
{
    char d[80];
    switch (f->type) {
    case CF_STRING: check_string(v, f, val, path, 200); break;
    case CF_TEXT: check_string(v, f, val, path, 4000); break;
    case CF_DATE:
        if (!json_is_string(val) || !validate_date(json_string_value(val)))
            verr(v, path, "date", NULL);
        else if ((f->flags & CF_NOFUTURE) && v->today &&
                 strcmp(json_string_value(val), v->today) > 0)
            verr(v, path, "not_future", v->today);
        break;
    case CF_INT:
    case CF_NUMBER: check_number(v, f, val, path); break;
    case CF_BOOL:
        if (!json_is_boolean(val))
            verr(v, path, "type", "true or false");
        break;
    case CF_PICK: pick_ok(v, f, val, path); break;
    case CF_MULTI:
    case CF_ORGS:
    case CF_OBJECTS: check_array(v, f, val, path); break;
    case CF_COUNTRY:
        if (!json_is_string(val))
            verr(v, path, "type", "text");
        else if (v->lk && v->lk->cat && !catalogue_is_country(v->lk->cat, json_string_value(val))) {
            utf8_sanitize(json_string_value(val), d, sizeof d);
            verr(v, path, "country", d);
        }
        break;
    case CF_ORG:
        if (!json_is_string(val))
            verr(v, path, "type", "text");
        else if (!org_exists(v, json_string_value(val)))
            verr(v, path, "lookup", "organisation");
        break;
    case CF_UID:
        if (!json_is_string(val) || !uid_ok(json_string_value(val)))
            verr(v, path, "uid", NULL);
        break;
    case CF_CURRENCY: {
        const char *s = json_string_value(val);
        if (!s || strlen(s) != 3 || !isupper((unsigned char)s[0]) ||
            !isupper((unsigned char)s[1]) || !isupper((unsigned char)s[2]))
            verr(v, path, "currency", NULL);
        break;
    }
    case CF_COUNTS:
    case CF_AMOUNTS: check_map(v, f, val, path); break;
    case CF_OBJECT:
        if (!json_is_object(val)) {
            verr(v, path, "type", "an object");
        } else if (json_object_size(val) > (f->max > 0 ? (size_t)f->max : 128)) {
            snprintf(d, sizeof d, "%d", f->max > 0 ? (int)f->max : 128);
            verr(v, path, "max_items", d);
        }
        break;
    case CF_LABEL:
        if (json_is_string(val)) {
            check_string(v, f, val, path, 300);
        } else if (json_is_object(val)) {
            static const char *const langs[] = {"en", "es", "fr", "uk"};
            const char *k;
            json_t *x;
            json_object_foreach ((json_t *)val, k, x) {
                char sub[PATH_MAX_LEN];
                join_path(sub, path, ".", k);
                bool known = false;
                for (int i = 0; i < 4; i++)
                    known = known || strcmp(k, langs[i]) == 0;
                if (!known)
                    verr(v, sub, "unknown_field", NULL);
                else
                    check_string(v, f, x, sub, 300);
            }
            if (!json_object_get(val, "en"))
                verr(v, path, "required", NULL);
        } else {
            verr(v, path, "type", "text or an object of texts by language");
        }
        break;
    }
}

int care_validate_with(const care_lookup *lk, const principal *p, const care_field *fields,
                       const json_t *doc, bool partial, const char *const *ignore,
                       const char *prefix, const char *today, amp_err *err)
{
    vctx v = {lk, p, today, err, 0};
    char path[PATH_MAX_LEN];
    if (!json_is_object(doc)) {
        join_path(path, prefix, NULL, NULL);
        verr(&v, path, "object", NULL);
        return v.count;
    }
    const char *key;
    json_t *val;
    json_object_foreach ((json_t *)doc, key, val) {
        join_path(path, prefix, NULL, key);
        if (ignore_has(ignore, key))
            continue;
        const care_field *f = field_of(fields, key);
        if (!f) {
            verr(&v, path, "unknown_field", NULL);
            continue;
        }
        if (f->flags & CF_SERVER) {
            verr(&v, path, "read_only", NULL);
            continue;
        }
        if (json_is_null(val))
            continue;
        check_value(&v, f, val, path);
    }
    for (const care_field *f = fields; !partial && f->name; f++) {
        const json_t *given = json_object_get(doc, f->name);
        if ((f->flags & CF_REQ) && !(f->flags & CF_SERVER) && (!given || json_is_null(given))) {
            join_path(path, prefix, NULL, f->name);
            verr(&v, path, "required", NULL);
        }
    }
    return v.count;
}

json_t *care_filter(const care_field *fields, const json_t *doc, bool hide_identity)
{
    json_t *out = json_object();
    const char *key;
    json_t *val;
    json_object_foreach ((json_t *)doc, key, val) {
        /* "_sealed" (seal.h) holds encrypted identity members: never shown */
        if (json_is_null(val) || strcmp(key, "_sealed") == 0)
            continue;
        const care_field *f = fields ? field_of(fields, key) : NULL;
        if (hide_identity && f && (f->flags & CF_IDENTITY))
            continue;
        if (hide_identity && f && f->type == CF_OBJECTS && f->sub && json_is_array(val)) {
            json_t *arr = json_array();
            size_t i;
            json_t *e;
            json_array_foreach (val, i, e)
                json_array_append_new(arr, care_filter(f->sub, e, true));
            json_object_set_new(out, key, arr);
            continue;
        }
        json_object_set(out, key, val);
    }
    return out;
}

json_t *care_strip_server(const care_field *fields, const json_t *doc)
{
    json_t *out = json_deep_copy(doc);
    for (const care_field *f = fields; f->name; f++) {
        if (f->flags & CF_SERVER)
            json_object_del(out, f->name);
    }
    return out;
}

/* ==== list parameters ========================================================= */

const char *care_param(const list_param *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(params[i].name, name) == 0)
            return params[i].value;
    }
    return NULL;
}

static bool parse_whole(const char *s, long min, long max, long *out)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return false;
    long v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; list && *list; list++) {
        if (strcmp(*list, s) == 0)
            return true;
    }
    return false;
}

amp_code care_params_check(const principal *p, const list_param *params, size_t n,
                           const char *const *known, const char *const *dates, int *limit,
                           int *offset, amp_err *err)
{
    long l = CASES_DEFAULT_LIMIT, o = 0;
    char msg[300];
    for (size_t i = 0; i < n; i++) {
        const char *name = params[i].name, *value = params[i].value;
        if (strcmp(name, "limit") == 0) {
            if (!parse_whole(value, 1, CASES_MAX_LIMIT, &l)) {
                validate_render(p->lang, "list.limit", name, "500", msg, sizeof msg);
                amp_err_field(err, name, "limit", msg);
            }
        } else if (strcmp(name, "offset") == 0) {
            if (!parse_whole(value, 0, 100000000, &o)) {
                validate_render(p->lang, "list.offset", name, NULL, msg, sizeof msg);
                amp_err_field(err, name, "offset", msg);
            }
        } else if (!in_list(known, name)) {
            validate_render(p->lang, "list.unknown", name, NULL, msg, sizeof msg);
            amp_err_field(err, name, "unknown_parameter", msg);
        } else if (in_list(dates, name) && !validate_date(value)) {
            care_field_error(err, p, name, "date", NULL);
        } else if (strcmp(name, "period") == 0) {
            care_period tmp;
            if (care_period_parse(value, &tmp) != 0)
                care_field_error(err, p, name, "period", NULL);
        }
    }
    if (json_array_size(err->fields)) {
        validate_render(p->lang, "list.invalid", NULL, NULL, msg, sizeof msg);
        return amp_err_set(err, AMP_EBADREQ, "%s", msg);
    }
    if (limit)
        *limit = (int)l;
    if (offset)
        *offset = (int)o;
    return AMP_OK;
}

/* ==== periods and dates ======================================================== */

/* Writes y-m-d as YYYY-MM-DD into out[11]. */
static void ymd(char out[11], int y, int m, int d)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y, m, d);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

int32_t care_days(const char *date)
{
    int y, m, d;
    if (!date || !validate_date(date) || sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return INT32_MIN;
    /* days from civil (H. Hinnant's algorithm) */
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void care_date(int32_t z, char out[11])
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    ymd(out, y, (int)m, (int)d);
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return days[(m - 1) % 12];
}

void care_add_months(const char *date, int months, char out[11])
{
    int y, m, d;
    if (!date || sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3) {
        snprintf(out, 11, "%s", date ? date : "");
        return;
    }
    int total = y * 12 + (m - 1) + months;
    y = total / 12;
    m = total % 12 + 1;
    if (d > month_days(y, m))
        d = month_days(y, m);
    ymd(out, y, m, d);
}

int care_period_parse(const char *s, care_period *out)
{
    int y, a, b;
    char tail[8];
    memset(out, 0, sizeof *out);
    if (!s || strlen(s) > 30)
        return -1;
    snprintf(out->label, sizeof out->label, "%s", s);
    const char *dots = strstr(s, "..");
    if (dots) {
        char from[16] = "", to[16] = "";
        size_t fl = (size_t)(dots - s);
        if (fl >= sizeof from || strlen(dots + 2) >= sizeof to)
            return -1;
        memcpy(from, s, fl);
        snprintf(to, sizeof to, "%s", dots + 2);
        if (!validate_date(from) || !validate_date(to) || strcmp(from, to) > 0)
            return -1;
        memcpy(out->from, from, 10); /* valid dates: exactly 10 characters */
        out->from[10] = '\0';
        memcpy(out->to, to, 10);
        out->to[10] = '\0';
        return 0;
    }
    size_t len = strlen(s);
    if (len == 4 && sscanf(s, "%4d%1s", &y, tail) == 1 && y >= 1900 && y <= 2200) {
        ymd(out->from, y, 1, 1);
        ymd(out->to, y, 12, 31);
        return 0;
    }
    if (len == 7 && sscanf(s, "%4d-Q%1d", &y, &a) == 2 && s[5] == 'Q' && a >= 1 && a <= 4 &&
        y >= 1900 && y <= 2200) {
        ymd(out->from, y, (a - 1) * 3 + 1, 1);
        ymd(out->to, y, a * 3, month_days(y, a * 3));
        return 0;
    }
    if (len == 7 && sscanf(s, "%4d-H%1d", &y, &a) == 2 && s[5] == 'H' && (a == 1 || a == 2) &&
        y >= 1900 && y <= 2200) {
        ymd(out->from, y, a == 1 ? 1 : 7, 1);
        ymd(out->to, y, a == 1 ? 6 : 12, a == 1 ? 30 : 31);
        return 0;
    }
    if (len == 7 && isdigit((unsigned char)s[5]) && isdigit((unsigned char)s[6]) &&
        sscanf(s, "%4d-%2d", &y, &b) == 2 && b >= 1 && b <= 12 && y >= 1900 && y <= 2200) {
        ymd(out->from, y, b, 1);
        ymd(out->to, y, b, month_days(y, b));
        return 0;
    }
    if (len == 10 && validate_date(s)) {
        snprintf(out->from, 11, "%s", s);
        snprintf(out->to, 11, "%s", s);
        return 0;
    }
    return -1;
}

amp_code care_period_from_params(const principal *p, const list_param *params, size_t n,
                                 const char *today, care_period *out, amp_err *err)
{
    const char *period = care_param(params, n, "period");
    const char *from = care_param(params, n, "from"), *to = care_param(params, n, "to");
    if (period) {
        if (care_period_parse(period, out) != 0) {
            care_field_error(err, p, "period", "period", NULL);
            return amp_err_set(err, AMP_EBADREQ, "period is not valid");
        }
        return AMP_OK;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->from, sizeof out->from, "%s", from && validate_date(from) ? from : "1900-01-01");
    snprintf(out->to, sizeof out->to, "%s", to && validate_date(to) ? to : today);
    if ((from && !validate_date(from)) || (to && !validate_date(to))) {
        care_field_error(err, p, from && !validate_date(from) ? "from" : "to", "date", NULL);
        return amp_err_set(err, AMP_EBADREQ, "the period is not valid");
    }
    if (strcmp(out->from, out->to) > 0) {
        care_field_error(err, p, "to", "date_order", "from");
        return amp_err_set(err, AMP_EBADREQ, "the period ends before it starts");
    }
    snprintf(out->label, sizeof out->label, "%s..%s", out->from, out->to);
    return AMP_OK;
}

int care_age_on(const char *birth, const char *on)
{
    int by, bm, bd, ty, tm, td;
    if (!birth || !on || sscanf(birth, "%4d-%2d-%2d", &by, &bm, &bd) != 3 ||
        sscanf(on, "%4d-%2d-%2d", &ty, &tm, &td) != 3)
        return -1;
    int age = ty - by;
    if (tm < bm || (tm == bm && td < bd))
        age--;
    return age;
}

/* ==== merge patches =========================================================== */

/* RFC 7396 on a copy: objects merge recursively, null deletes. */
static json_t *merge_value(const json_t *target, const json_t *patch, bool top)
{
    if (!json_is_object(patch))
        return json_deep_copy(patch);
    json_t *merged = json_is_object(target) ? json_deep_copy(target) : json_object();
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)patch, key, v) {
        if (top && strcmp(key, "version") == 0)
            continue;
        if (json_is_null(v))
            json_object_del(merged, key);
        else
            json_object_set_new(merged, key, merge_value(json_object_get(merged, key), v, false));
    }
    return merged;
}

json_t *care_merge(const json_t *doc, const json_t *patch)
{
    if (!json_is_object(patch))
        return json_is_object(doc) ? json_deep_copy(doc) : json_object();
    return merge_value(json_is_object(doc) ? doc : NULL, patch, true);
}
