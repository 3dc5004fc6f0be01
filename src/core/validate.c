/* validate.c — catalogue-driven validation of records. */
#include "core/validate.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* ---- messages -------------------------------------------------------------
 * "{f}" is replaced by the field name, "{d}" by the detail. */
typedef struct {
    const char *rule;
    const char *en, *es, *fr, *uk;
} message;

static const message messages[] = {
    {"unknown_field", "{f} is not a field of this record", "{f} no es un campo de este registro",
     "{f} n'est pas un champ de cet enregistrement", "{f} не є полем цього запису"},
    {"read_only", "{f} is set by the server and cannot be written",
     "{f} lo asigna el servidor y no se puede escribir",
     "{f} est fixé par le serveur et ne peut pas être écrit",
     "{f} встановлює сервер, його не можна змінити"},
    {"required", "{f} is required", "{f} es obligatorio", "{f} est obligatoire",
     "{f} є обов'язковим"},
    {"required_if", "{f} is required when {d}", "{f} es obligatorio cuando {d}",
     "{f} est obligatoire lorsque {d}", "{f} є обов'язковим, коли {d}"},
    {"applies_if", "{f} may only be given when {d}", "{f} solo se puede indicar cuando {d}",
     "{f} ne peut être indiqué que lorsque {d}", "{f} можна вказати лише коли {d}"},
    {"type", "{f} must be {d}", "{f} debe ser {d}", "{f} doit être {d}", "{f} має бути {d}"},
    {"picklist", "{f}: '{d}' is not one of the allowed values",
     "{f}: '{d}' no es uno de los valores permitidos",
     "{f} : « {d} » ne fait pas partie des valeurs autorisées",
     "{f}: '{d}' не є допустимим значенням"},
    {"duplicate", "{f}: '{d}' is given twice", "{f}: '{d}' aparece dos veces",
     "{f} : « {d} » figure deux fois", "{f}: '{d}' вказано двічі"},
    {"max_items", "{f} has more than {d} items", "{f} tiene más de {d} elementos",
     "{f} a plus de {d} éléments", "{f} містить понад {d} елементів"},
    {"max_length", "{f} is longer than {d} characters", "{f} tiene más de {d} caracteres",
     "{f} dépasse {d} caractères", "{f} довше за {d} символів"},
    {"min_length", "{f} is shorter than {d} characters", "{f} tiene menos de {d} caracteres",
     "{f} fait moins de {d} caractères", "{f} коротше за {d} символів"},
    {"control_characters", "{f} contains control characters", "{f} contiene caracteres de control",
     "{f} contient des caractères de contrôle", "{f} містить керівні символи"},
    {"date", "{f} must be a date written YYYY-MM-DD", "{f} debe ser una fecha AAAA-MM-DD",
     "{f} doit être une date AAAA-MM-JJ", "{f} має бути датою у форматі РРРР-ММ-ДД"},
    {"not_future", "{f} cannot be in the future ({d})", "{f} no puede ser futura ({d})",
     "{f} ne peut pas être dans le futur ({d})", "{f} не може бути в майбутньому ({d})"},
    {"not_before_birth", "{f} cannot be before the birthdate ({d})",
     "{f} no puede ser anterior a la fecha de nacimiento ({d})",
     "{f} ne peut pas précéder la date de naissance ({d})",
     "{f} не може бути раніше дати народження ({d})"},
    {"min", "{f} must be at least {d}", "{f} debe ser como mínimo {d}",
     "{f} doit valoir au moins {d}", "{f} має бути не менше {d}"},
    {"max", "{f} must be at most {d}", "{f} debe ser como máximo {d}",
     "{f} doit valoir au plus {d}", "{f} має бути не більше {d}"},
    {"integer", "{f} must be a whole number", "{f} debe ser un número entero",
     "{f} doit être un nombre entier", "{f} має бути цілим числом"},
    {"country", "{f}: '{d}' is not an ISO 3166-1 alpha-2 country code",
     "{f}: '{d}' no es un código de país ISO 3166-1 alfa-2",
     "{f} : « {d} » n'est pas un code pays ISO 3166-1 alpha-2",
     "{f}: '{d}' не є кодом країни ISO 3166-1 alpha-2"},
    {"language", "{f}: '{d}' is not an ISO 639 language code",
     "{f}: '{d}' no es un código de idioma ISO 639",
     "{f} : « {d} » n'est pas un code de langue ISO 639", "{f}: '{d}' не є кодом мови ISO 639"},
    {"phone", "{f} must be an E.164 number such as +593991234567",
     "{f} debe ser un número E.164, por ejemplo +593991234567",
     "{f} doit être un numéro E.164, par exemple +593991234567",
     "{f} має бути номером E.164, наприклад +593991234567"},
    {"email", "{f} must be an e-mail address", "{f} debe ser una dirección de correo electrónico",
     "{f} doit être une adresse électronique", "{f} має бути адресою електронної пошти"},
    {"lookup", "{f}: no {d} has this identifier", "{f}: no existe {d} con este identificador",
     "{f} : aucun(e) {d} n'a cet identifiant", "{f}: немає запису {d} з таким ідентифікатором"},
    {"age_consistency", "{f} is greater than the person's age ({d})",
     "{f} es mayor que la edad de la persona ({d})", "{f} dépasse l'âge de la personne ({d})",
     "{f} більше за вік особи ({d})"},
    {"object", "the record must be a JSON object", "el registro debe ser un objeto JSON",
     "l'enregistrement doit être un objet JSON", "запис має бути об'єктом JSON"},
    /* list parameters */
    {"list.unknown", "{f} is not a list parameter", "{f} no es un parámetro de la lista",
     "{f} n'est pas un paramètre de liste", "{f} не є параметром списку"},
    {"list.value", "{f}: '{d}' is not one of the values of this filter",
     "{f}: '{d}' no es uno de los valores de este filtro",
     "{f} : « {d} » ne fait pas partie des valeurs de ce filtre",
     "{f}: '{d}' не є значенням цього фільтра"},
    {"list.empty", "filter {f} needs a value", "el filtro {f} necesita un valor",
     "le filtre {f} a besoin d'une valeur", "фільтр {f} потребує значення"},
    {"list.too_many", "{f}: too many values (at most {d})",
     "{f}: demasiados valores (como máximo {d})", "{f} : trop de valeurs (au plus {d})",
     "{f}: забагато значень (не більше {d})"},
    {"list.reference", "{f} must be a case reference or its beginning, e.g. EC-2026",
     "{f} debe ser una referencia de caso o su comienzo, p. ej. EC-2026",
     "{f} doit être une référence de cas ou son début, p. ex. EC-2026",
     "{f} має бути номером справи або його початком, напр. EC-2026"},
    {"list.owner", "{f} must be an organisation identifier",
     "{f} debe ser un identificador de organización", "{f} doit être un identifiant d'organisation",
     "{f} має бути ідентифікатором організації"},
    {"list.sort", "{f}: sort by registered, reference, created or updated (- for descending)",
     "{f}: ordene por registered, reference, created o updated (- para descendente)",
     "{f} : triez par registered, reference, created ou updated (- pour décroissant)",
     "{f}: сортуйте за registered, reference, created або updated (- для спадання)"},
    {"list.limit", "{f} must be a whole number from 1 to {d}",
     "{f} debe ser un número entero de 1 a {d}", "{f} doit être un nombre entier de 1 à {d}",
     "{f} має бути цілим числом від 1 до {d}"},
    {"list.offset", "{f} must be a whole number, 0 or more",
     "{f} debe ser un número entero, 0 o más", "{f} doit être un nombre entier, 0 ou plus",
     "{f} має бути цілим числом, 0 або більше"},
    {"list.invalid", "the list parameters are not valid",
     "los parámetros de la lista no son válidos", "les paramètres de la liste ne sont pas valides",
     "параметри списку недійсні"},
};

const char *validate_message(const char *lang, const char *rule)
{
    for (size_t i = 0; i < sizeof messages / sizeof *messages; i++) {
        const message *m = &messages[i];
        if (strcmp(m->rule, rule) != 0)
            continue;
        if (lang && strncmp(lang, "es", 2) == 0)
            return m->es;
        if (lang && strncmp(lang, "fr", 2) == 0)
            return m->fr;
        if (lang && strncmp(lang, "uk", 2) == 0)
            return m->uk;
        return m->en;
    }
    return "{f} is invalid";
}

static void render(char *out, size_t n, const char *tpl, const char *f, const char *d)
{
    size_t o = 0;
    for (const char *p = tpl; *p && o + 1 < n; p++) {
        const char *sub = NULL;
        if (p[0] == '{' && (p[1] == 'f' || p[1] == 'd') && p[2] == '}') {
            sub = p[1] == 'f' ? f : d;
            p += 2;
            for (; sub && *sub && o + 1 < n; sub++)
                out[o++] = *sub;
            continue;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
}

void validate_render(const char *lang, const char *key, const char *field, const char *detail,
                     char *out, size_t n)
{
    render(out, n, validate_message(lang, key), field ? field : "", detail ? detail : "");
}

static void fail(const validate_ctx *ctx, amp_err *err, const char *field, const char *rule,
                 const char *detail)
{
    char path[160], msg[512];
    snprintf(path, sizeof path, "%s%s", ctx->prefix ? ctx->prefix : "", field);
    render(msg, sizeof msg, validate_message(ctx->lang, rule), path, detail ? detail : "");
    amp_err_field(err, path, rule, msg);
}

/* ---- value checks -------------------------------------------------------- */

size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool validate_date(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    }
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1] + (m == 2 && is_leap(y));
    return d <= max;
}

bool validate_e164(const char *s)
{
    if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return false;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++) {
        if (!isdigit((unsigned char)*p))
            return false;
    }
    return n >= 8 && n <= 15;
}

bool validate_email(const char *s)
{
    const char *at = s ? strchr(s, '@') : NULL;
    if (!at || at == s || strchr(at + 1, '@'))
        return false;
    const char *dot = strrchr(at, '.');
    if (!dot || dot == at + 1 || !dot[1])
        return false;
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ')
            return false;
    }
    return true;
}

bool validate_identifier(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

static bool has_control(const char *s, bool allow_newlines)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            if (allow_newlines && (*p == '\n' || *p == '\r' || *p == '\t'))
                continue;
            return true;
        }
    }
    return false;
}

static bool blank(const char *s)
{
    for (; *s; s++) {
        if (!isspace((unsigned char)*s))
            return false;
    }
    return true;
}

int validate_years_between(const char *birth, const char *date)
{
    if (!birth || !date || !validate_date(birth) || !validate_date(date))
        return -1;
    int years = atoi(date) - atoi(birth);
    if (strcmp(date + 5, birth + 5) < 0)
        years--;
    return years;
}

static const char *type_expectation(const cat_field *f)
{
    switch (f->type) {
    case FT_NUMBER: return "a number";
    case FT_CHECKBOX: return "true or false";
    case FT_MULTISELECT: return "an array of value names";
    case FT_COUNTRY:
    case FT_LANGUAGE: return f->multiple ? "an array of codes" : "a code string";
    default: return "a string";
    }
}

/* Checks one scalar code/value of a picklist, country or language field. */
static void check_code(const catalogue *cat, const cat_field *f, const char *v,
                       const validate_ctx *ctx, amp_err *err)
{
    if (f->type == FT_COUNTRY) {
        if (!catalogue_is_country(cat, v))
            fail(ctx, err, f->name, "country", v);
    } else if (f->type == FT_LANGUAGE) {
        if (!catalogue_is_language(cat, v))
            fail(ctx, err, f->name, "language", v);
    } else if (!cat_field_has_value(f, v)) {
        fail(ctx, err, f->name, "picklist", v);
    }
}

static void check_array(const catalogue *cat, const cat_field *f, const json_t *v,
                        const validate_ctx *ctx, amp_err *err)
{
    size_t n = json_array_size(v);
    if (f->max_items > 0 && n > (size_t)f->max_items) {
        char d[16];
        snprintf(d, sizeof d, "%d", f->max_items);
        fail(ctx, err, f->name, "max_items", d);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!s) {
            fail(ctx, err, f->name, "type", type_expectation(f));
            return;
        }
        check_code(cat, f, s, ctx, err);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s, json_string_value(json_array_get(v, j))) == 0) {
                fail(ctx, err, f->name, "duplicate", s);
                break;
            }
        }
    }
}

static void check_string(const catalogue *cat, const cat_field *f, const char *s,
                         const validate_ctx *ctx, amp_err *err)
{
    char d[32];
    if (has_control(s, f->type == FT_LONGTEXT)) {
        fail(ctx, err, f->name, "control_characters", NULL);
        return;
    }
    size_t len = utf8_length(s);
    if (f->max_length > 0 && len > (size_t)f->max_length) {
        snprintf(d, sizeof d, "%d", f->max_length);
        fail(ctx, err, f->name, "max_length", d);
        return;
    }
    if (f->min_length > 0 && len < (size_t)f->min_length) {
        snprintf(d, sizeof d, "%d", f->min_length);
        fail(ctx, err, f->name, "min_length", d);
        return;
    }
    switch (f->type) {
    case FT_DATE:
        if (!validate_date(s))
            fail(ctx, err, f->name, "date", NULL);
        else if (f->not_future && ctx->today && strcmp(s, ctx->today) > 0)
            fail(ctx, err, f->name, "not_future", ctx->today);
        else if (f->not_before_birth && ctx->birthdate && strcmp(s, ctx->birthdate) < 0)
            fail(ctx, err, f->name, "not_before_birth", ctx->birthdate);
        break;
    case FT_PHONE:
        if (!validate_e164(s))
            fail(ctx, err, f->name, "phone", NULL);
        break;
    case FT_EMAIL:
        if (!validate_email(s))
            fail(ctx, err, f->name, "email", NULL);
        break;
    case FT_LOOKUP:
        if (!validate_identifier(s) || (ctx->lookup_exists && f->lookup_target &&
                                        !ctx->lookup_exists(ctx->lookup_arg, f->lookup_target, s)))
            fail(ctx, err, f->name, "lookup", f->lookup_target ? f->lookup_target : "record");
        break;
    case FT_PICKLIST:
    case FT_COUNTRY:
    case FT_LANGUAGE: check_code(cat, f, s, ctx, err); break;
    default: break;
    }
}

static void check_value(const catalogue *cat, const cat_field *f, const json_t *v,
                        const validate_ctx *ctx, amp_err *err)
{
    bool wants_array = f->type == FT_MULTISELECT ||
                       ((f->type == FT_COUNTRY || f->type == FT_LANGUAGE) && f->multiple);
    char d[32];
    if (wants_array) {
        if (!json_is_array(v))
            fail(ctx, err, f->name, "type", type_expectation(f));
        else
            check_array(cat, f, v, ctx, err);
        return;
    }
    switch (f->type) {
    case FT_CHECKBOX:
        if (!json_is_boolean(v))
            fail(ctx, err, f->name, "type", type_expectation(f));
        return;
    case FT_NUMBER: {
        if (!json_is_number(v)) {
            fail(ctx, err, f->name, "type", type_expectation(f));
            return;
        }
        double x = json_number_value(v);
        if (!isfinite(x) || (f->integer && (json_is_real(v) && x != floor(x))))
            fail(ctx, err, f->name, f->integer ? "integer" : "type", type_expectation(f));
        else if (f->has_min && x < f->min) {
            snprintf(d, sizeof d, "%g", f->min);
            fail(ctx, err, f->name, "min", d);
        } else if (f->has_max && x > f->max) {
            snprintf(d, sizeof d, "%g", f->max);
            fail(ctx, err, f->name, "max", d);
        }
        return;
    }
    default:
        if (!json_is_string(v))
            fail(ctx, err, f->name, "type", type_expectation(f));
        else
            check_string(cat, f, json_string_value(v), ctx, err);
    }
}

static bool is_present(const json_t *v)
{
    if (!v || json_is_null(v))
        return false;
    if (json_is_string(v))
        return !blank(json_string_value(v));
    if (json_is_array(v))
        return json_array_size(v) > 0;
    return true;
}

/* True when the condition field holds (or, for an array, contains) one of the values. */
static bool condition_holds(const cat_field *f, const json_t *doc)
{
    const json_t *v = json_object_get(doc, f->cond_field);
    for (size_t i = 0; i < f->ncond_values; i++) {
        if (json_is_string(v) && strcmp(json_string_value(v), f->cond_values[i]) == 0)
            return true;
        if (json_is_array(v)) {
            size_t j;
            json_t *e;
            json_array_foreach (v, j, e) {
                if (json_is_string(e) && strcmp(json_string_value(e), f->cond_values[i]) == 0)
                    return true;
            }
        }
    }
    return false;
}

static void describe_condition(const cat_field *f, char *out, size_t n)
{
    size_t o = (size_t)snprintf(out, n, "%s is ", f->cond_field);
    for (size_t i = 0; i < f->ncond_values && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%s", i ? " or " : "", f->cond_values[i]);
}

static bool ignored(const char *key, const char *const *ignore)
{
    for (; ignore && *ignore; ignore++) {
        if (strcmp(key, *ignore) == 0)
            return true;
    }
    return false;
}

int validate_record(const catalogue *cat, const char *entity, const json_t *doc,
                    const validate_ctx *ctx, const char *const *ignore, amp_err *err)
{
    size_t before = json_array_size(err->fields);
    if (!json_is_object(doc)) {
        fail(ctx, err, "", "object", NULL);
        return 1;
    }
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)doc, key, v) {
        if (ignored(key, ignore))
            continue;
        const cat_field *f = catalogue_field(cat, entity, key);
        if (!f) {
            fail(ctx, err, key, "unknown_field", NULL);
            continue;
        }
        if (!json_is_null(v))
            check_value(cat, f, v, ctx, err);
    }

    size_t n;
    const cat_field *const *fields = catalogue_fields(cat, entity, &n);
    for (size_t i = 0; i < n; i++) {
        const cat_field *f = fields[i];
        if (!(f->required && !f->default_value) && f->cond != COND_REQUIRED_IF &&
            f->cond != COND_APPLIES_IF)
            continue; /* nothing to check about its presence */
        bool present = is_present(json_object_get(doc, f->name));
        char cond[160];
        if (f->required && !present && !f->default_value)
            fail(ctx, err, f->name, "required", NULL);
        if (f->cond == COND_REQUIRED_IF && !present && condition_holds(f, doc)) {
            describe_condition(f, cond, sizeof cond);
            fail(ctx, err, f->name, "required_if", cond);
        }
        if (f->cond == COND_APPLIES_IF && present && !condition_holds(f, doc)) {
            describe_condition(f, cond, sizeof cond);
            fail(ctx, err, f->name, "applies_if", cond);
        }
    }

    /* Cross-field: the age when trafficked cannot exceed the person's age today. */
    const char *birth = json_string_value(json_object_get(doc, "prs_Birthdate"));
    const json_t *age = json_object_get(doc, "vic_AgeWhenTrafficked");
    if (birth && validate_date(birth) && json_is_number(age) && ctx->today &&
        strcmp(birth, ctx->today) <= 0) {
        int now = validate_years_between(birth, ctx->today);
        if (json_number_value(age) > now) {
            char d[16];
            snprintf(d, sizeof d, "%d", now);
            fail(ctx, err, "vic_AgeWhenTrafficked", "age_consistency", d);
        }
    }
    return (int)(json_array_size(err->fields) - before);
}
