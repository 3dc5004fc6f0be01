/* refcommon.c — shared machinery of the referral-mechanism modules (see refcommon.h). */
#include "core/refcommon.h"

#include "core/audit.h"
#include "core/consent.h"
#include "core/validate.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

#include <math.h>
#include <sodium.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char amparo_referrals_json[], amparo_referrals_json_end[];

/* ==== picklists ================================================================= */

static json_t *document;
static pthread_once_t document_once = PTHREAD_ONCE_INIT;

static void document_load(void)
{
    json_error_t je;
    document = json_loadb(amparo_referrals_json,
                          (size_t)(amparo_referrals_json_end - amparo_referrals_json), 0, &je);
    if (!document) {
        log_error("referrals: the embedded picklists do not parse: %s", je.text);
        document = json_pack("{s:{}, s:{}}", "picklists", "settings");
    }
}

const json_t *rc_document(void)
{
    pthread_once(&document_once, document_load);
    return document;
}

const json_t *rc_picklist(const char *name)
{
    return json_object_get(json_object_get(rc_document(), "picklists"), name);
}

static bool list_has(const json_t *list, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach (list, i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));
        if (n && value && strcmp(n, value) == 0)
            return true;
    }
    return false;
}

bool rc_picklist_has(core *c, const char *name, const char *value)
{
    if (strcmp(name, "indicators") == 0 && c) {
        rc_settings s;
        rc_settings_get(c, &s);
        bool ok = list_has(s.indicators, value);
        rc_settings_release(&s);
        return ok;
    }
    return list_has(rc_picklist(name), value);
}

const char *rc_label(const char *picklist, const char *value, const char *lang)
{
    size_t i;
    json_t *v;
    json_array_foreach (rc_picklist(picklist), i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));
        if (n && value && strcmp(n, value) == 0) {
            const json_t *l = json_object_get(v, "label");
            const char *s = json_string_value(json_object_get(l, lang ? lang : "en"));
            if (!s)
                s = json_string_value(json_object_get(l, "en"));
            return s ? s : value;
        }
    }
    return value;
}

/* ==== messages ==================================================================== */

static const struct {
    const char *key;
    const char *text[4]; /* en, es, fr, uk */
} messages[] = {
    {"invalid",
     {"the request is not valid", "la solicitud no es válida", "la demande n'est pas valide",
      "запит недійсний"}},
    {"nf.referral",
     {"no referral '%s'", "no existe la derivación '%s'", "aucune orientation '%s'",
      "немає перенаправлення '%s'"}},
    {"nf.contact",
     {"no hotline contact '%s'", "no existe el contacto '%s'", "aucun contact '%s'",
      "немає звернення '%s'"}},
    {"nf.assistance",
     {"no assistance record '%s'", "no existe el registro de asistencia '%s'",
      "aucune aide enregistrée '%s'", "немає запису про допомогу '%s'"}},
    {"nf.task",
     {"no task '%s'", "no existe la tarea '%s'", "aucune tâche '%s'", "немає завдання '%s'"}},
    {"nf.org",
     {"no organisation '%s'", "no existe la organización '%s'", "aucune organisation '%s'",
      "немає організації '%s'"}},
    {"nf.directory",
     {"organisation '%s' has no directory entry", "la organización '%s' no figura en el directorio",
      "l'organisation '%s' n'a pas de fiche dans l'annuaire",
      "організація '%s' не має запису в довіднику"}},
    {"state.answer",
     {"the referral is %s: only a sent referral can be accepted or declined",
      "la derivación está %s: solo una derivación enviada puede aceptarse o rechazarse",
      "l'orientation est %s : seule une orientation envoyée peut être acceptée ou refusée",
      "перенаправлення має стан %s: прийняти чи відхилити можна лише надіслане"}},
    {"state.complete",
     {"the referral is %s: only an accepted referral can be completed",
      "la derivación está %s: solo una derivación aceptada puede completarse",
      "l'orientation est %s : seule une orientation acceptée peut être terminée",
      "перенаправлення має стан %s: завершити можна лише прийняте"}},
    {"state.cancel",
     {"the referral is %s: only a referral not yet answered can be cancelled",
      "la derivación está %s: solo puede cancelarse una derivación aún sin respuesta",
      "l'orientation est %s : seule une orientation sans réponse peut être annulée",
      "перенаправлення має стан %s: скасувати можна лише те, на яке ще не відповіли"}},
    {"party.receiver",
     {"only the receiving organisation can answer or complete this referral",
      "solo la organización receptora puede responder o completar esta derivación",
      "seule l'organisation destinataire peut répondre à cette orientation ou la terminer",
      "відповісти на це перенаправлення чи завершити його може лише організація-отримувач"}},
    {"party.sender",
     {"only the sending organisation can cancel this referral",
      "solo la organización remitente puede cancelar esta derivación",
      "seule l'organisation d'origine peut annuler cette orientation",
      "скасувати це перенаправлення може лише організація-відправник"}},
    {"ref.same_org",
     {"a referral goes to another organisation", "una derivación va a otra organización",
      "une orientation va vers une autre organisation",
      "перенаправлення надсилається іншій організації"}},
    {"ref.pending",
     {"this case already has a referral to '%s' awaiting an answer",
      "este caso ya tiene una derivación a '%s' pendiente de respuesta",
      "ce dossier a déjà une orientation vers '%s' en attente de réponse",
      "ця справа вже має перенаправлення до '%s', що очікує відповіді"}},
    {"ref.no_from",
     {"say which organisation sends the referral (from_org)",
      "indique qué organización envía la derivación (from_org)",
      "indiquez quelle organisation envoie l'orientation (from_org)",
      "вкажіть, яка організація надсилає перенаправлення (from_org)"}},
    {"case.closed",
     {"the case is closed: reopen it first", "el caso está cerrado: reábralo primero",
      "le dossier est clos : rouvrez-le d'abord", "справу закрито: спершу відкрийте її знову"}},
    {"case.not_closed",
     {"the case is not closed", "el caso no está cerrado", "le dossier n'est pas clos",
      "справу не закрито"}},
    {"case.pending",
     {"the case has referrals awaiting an answer (%s): cancel them or wait for the answer",
      "el caso tiene derivaciones pendientes de respuesta (%s): cancélelas o espere la respuesta",
      "le dossier a des orientations en attente de réponse (%s) : annulez-les ou attendez la "
      "réponse",
      "справа має перенаправлення, що очікують відповіді (%s): скасуйте їх або дочекайтеся"}},
    {"dec.initial_first",
     {"a conclusive decision needs a positive initial decision first",
      "una decisión definitiva requiere antes una decisión inicial positiva",
      "une décision définitive exige d'abord une décision initiale positive",
      "остаточне рішення потребує спершу позитивного первинного рішення"}},
    {"dec.concluded",
     {"identification is concluded (%s)", "la identificación ha concluido (%s)",
      "l'identification est terminée (%s)", "ідентифікацію завершено (%s)"}},
    {"dec.initial_done",
     {"an initial decision is already recorded", "ya consta una decisión inicial",
      "une décision initiale est déjà enregistrée", "первинне рішення вже зафіксовано"}},
    {"hot.case_open",
     {"this contact is already linked to case %s", "este contacto ya está vinculado al caso %s",
      "ce contact est déjà lié au dossier %s", "це звернення вже пов'язане зі справою %s"}},
    {"org.scope",
     {"you can change only your own organisation's entry",
      "solo puede modificar la ficha de su propia organización",
      "vous ne pouvez modifier que la fiche de votre organisation",
      "ви можете змінювати лише запис своєї організації"}},
    {"rec.owner",
     {"only the organisation that recorded it can change it",
      "solo la organización que lo registró puede modificarlo",
      "seule l'organisation qui l'a enregistré peut le modifier",
      "змінити запис може лише організація, що його створила"}},
    {"conflict",
     {"the record is at version %s: someone saved it first",
      "el registro está en la versión %s: alguien lo guardó antes",
      "l'enregistrement est à la version %s : quelqu'un l'a enregistré avant vous",
      "запис має версію %s: хтось зберіг його раніше"}},
    {"needver",
     {"give the version you are changing (If-Match header or \"version\" field) so that no one "
      "else's change is overwritten",
      "indique la versión que modifica (cabecera If-Match o campo \"version\") para no "
      "sobrescribir cambios ajenos",
      "indiquez la version que vous modifiez (en-tête If-Match ou champ \"version\") pour "
      "n'écraser aucune autre modification",
      "вкажіть версію, яку змінюєте (заголовок If-Match або поле \"version\"), щоб не "
      "перезаписати чужі зміни"}},
    {"no_org",
     {"your account belongs to no organisation", "su cuenta no pertenece a ninguna organización",
      "votre compte n'appartient à aucune organisation",
      "ваш обліковий запис не належить жодній організації"}},
    {"task.done",
     {"the task is already done", "la tarea ya está hecha", "la tâche est déjà faite",
      "завдання вже виконано"}},
    {"storage",
     {"storage failure", "fallo de almacenamiento", "erreur de stockage", "помилка сховища"}},
};

static int lang_index(const char *lang)
{
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    for (int i = 0; lang && i < 4; i++) {
        if (strncmp(lang, langs[i], 2) == 0)
            return i;
    }
    return 0;
}

const char *rc_msg(const char *lang, const char *key)
{
    for (size_t i = 0; i < sizeof messages / sizeof *messages; i++) {
        if (strcmp(messages[i].key, key) == 0)
            return messages[i].text[lang_index(lang)];
    }
    return key;
}

static void fill(char *out, size_t n, const char *tmpl, const char *arg)
{
    const char *at = strstr(tmpl, "%s");
    char safe[160];
    utf8_sanitize(arg ? arg : "", safe, sizeof safe);
    if (at)
        snprintf(out, n, "%.*s%s%s", (int)(at - tmpl), tmpl, safe, at + 2);
    else
        snprintf(out, n, "%s", tmpl);
}

amp_code rc_fail(amp_err *err, const principal *p, amp_code code, const char *key, const char *arg)
{
    char msg[256];
    fill(msg, sizeof msg, rc_msg(p ? p->lang : "en", key), arg);
    return amp_err_set(err, code, "%s", msg);
}

/* ==== settings ======================================================================= */

#define SETTINGS_KIND "settings"
#define SETTINGS_UID "referrals"

static int int_setting(const json_t *over, const json_t *def, const char *key, int fallback)
{
    const json_t *v = json_object_get(over, key);
    if (!json_is_integer(v))
        v = json_object_get(def, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : fallback;
}

void rc_settings_get(core *c, rc_settings *out)
{
    memset(out, 0, sizeof *out);
    const json_t *def = json_object_get(rc_document(), "settings");
    store_record r = {0};
    json_t *over = NULL;
    if (c && store_record_get(core_store(c), SETTINGS_KIND, SETTINGS_UID, &r) == STORE_OK)
        over = r.doc;
    out->standard_working_days = int_setting(over, def, "standard_working_days", 5);
    out->emergency_hours = int_setting(over, def, "emergency_hours", 24);
    out->initial_decision_working_days = int_setting(over, def, "initial_decision_working_days", 5);
    out->reflection_period_days = int_setting(over, def, "reflection_period_days", 30);
    out->conclusive_decision_working_days =
        int_setting(over, def, "conclusive_decision_working_days", 10);
    /* calendars: the defaults, each country replaced by a stored one */
    out->calendars = json_deep_copy(json_object_get(def, "calendars"));
    if (!out->calendars)
        out->calendars = json_object();
    json_t *cals = json_object_get(over, "calendars");
    if (json_is_object(cals))
        json_object_update(out->calendars, cals);
    json_t *ind = json_object_get(over, "indicators");
    out->indicators =
        json_is_array(ind) ? json_incref(ind) : json_deep_copy(rc_picklist("indicators"));
    store_record_release(&r);
}

void rc_settings_release(rc_settings *s)
{
    json_decref(s->calendars);
    json_decref(s->indicators);
    memset(s, 0, sizeof *s);
}

json_t *rc_settings_json(const rc_settings *s)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:O, s:O}", "standard_working_days",
                     s->standard_working_days, "emergency_hours", s->emergency_hours,
                     "initial_decision_working_days", s->initial_decision_working_days,
                     "reflection_period_days", s->reflection_period_days,
                     "conclusive_decision_working_days", s->conclusive_decision_working_days,
                     "calendars", s->calendars, "indicators", s->indicators);
}

void rc_calendar(const rc_settings *s, const char *country, workdays_cal *cal)
{
    workdays_cal_load(cal, s->calendars, country);
}

static json_t *settings_answer(core *c, int64_t version)
{
    rc_settings s;
    rc_settings_get(c, &s);
    json_t *o = rc_settings_json(&s);
    json_object_set_new(o, "version", json_integer(version));
    rc_settings_release(&s);
    return o;
}

amp_code rc_settings_read(core *c, const principal *p, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_LIFECYCLE, err);
    if (code != AMP_OK && (code = authz_require(p, ACT_READ, RES_REFERRAL, err)) != AMP_OK)
        return code;
    amp_err_clear(err);
    store_record r = {0};
    int64_t version = 0;
    if (store_record_get(core_store(c), SETTINGS_KIND, SETTINGS_UID, &r) == STORE_OK)
        version = r.version;
    store_record_release(&r);
    *out = settings_answer(c, version);
    return AMP_OK;
}

static bool indicator_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 48)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
            return false;
    }
    return true;
}

static void check_indicators(const principal *p, const json_t *v, amp_err *err)
{
    if (!json_is_array(v) || json_array_size(v) > 100) {
        amp_err_field(err, "indicators", "type",
                      "indicators must be an array of at most 100 {name, label} objects");
        return;
    }
    size_t i, j;
    json_t *x, *y;
    json_array_foreach (v, i, x) {
        const char *name = json_string_value(json_object_get(x, "name"));
        const json_t *label = json_object_get(x, "label");
        char path[64];
        snprintf(path, sizeof path, "indicators[%zu]", i);
        bool ok = json_is_object(x) && indicator_name_ok(name) && json_is_object(label) &&
                  json_is_string(json_object_get(label, "en"));
        const char *k;
        json_t *lv;
        json_object_foreach ((json_t *)label, k, lv) {
            if (!json_is_string(lv) || utf8_length(json_string_value(lv)) > 200 ||
                (strcmp(k, "en") && strcmp(k, "es") && strcmp(k, "fr") && strcmp(k, "uk")))
                ok = false;
        }
        json_object_foreach (x, k, lv) {
            if (strcmp(k, "name") && strcmp(k, "label"))
                ok = false;
        }
        for (j = 0; ok && j < i; j++) {
            y = json_array_get(v, j);
            if (strcmp(json_string_value(json_object_get(y, "name")), name) == 0)
                ok = false;
        }
        if (!ok)
            amp_err_field(err, path, "indicator",
                          "each indicator is {\"name\": letters and digits (unique), \"label\": "
                          "{\"en\": …, \"es\", \"fr\", \"uk\"} of at most 200 characters}");
    }
    (void)p;
}

typedef struct {
    json_t *doc;
    int64_t if_match;
} settings_put_ctx;

static int job_settings_put(rc_job *j, store_tx *tx)
{
    settings_put_ctx *x = j->ctx;
    store_record r = {0};
    int rc = store_tx_record_get(tx, SETTINGS_KIND, SETTINGS_UID, &r);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return rc_job_store_fail(j, rc, "settings");
    int64_t expected = rc == STORE_OK ? r.version : 0;
    if (x->if_match > 0 && x->if_match != expected) {
        store_record_release(&r);
        return rc_job_check_version(j, expected, x->if_match, true);
    }
    json_t *merged = rc_merge(rc == STORE_OK ? r.doc : NULL, x->doc);
    if (rc != STORE_OK) {
        json_decref(r.doc);
        r.doc = NULL;
        rc_record_init(&r, SETTINGS_KIND, SETTINGS_UID, j->p, j->now);
    }
    rc_record_touch(&r, j->p, j->now);
    json_decref(r.doc);
    r.doc = merged;
    rc = store_tx_record_put(tx, &r, expected);
    if (rc == STORE_OK) {
        json_t *keys = json_array();
        const char *k;
        json_t *v;
        json_object_foreach (x->doc, k, v)
            json_array_append_new(keys, json_string(k));
        json_t *detail = json_pack("{s:o}", "fields", keys);
        rc = audit_tx(tx, j->p, "settings.update", "settings", SETTINGS_UID, detail);
        json_decref(detail);
    }
    int64_t version = r.version;
    store_record_release(&r);
    if (rc != STORE_OK)
        return rc_job_store_fail(j, rc, "settings");
    j->result = json_integer(version);
    return STORE_OK;
}

amp_code rc_settings_put(core *c, const principal *p, const json_t *body, int64_t if_match,
                         json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_ADMIN, RES_ORG, err);
    if (code != AMP_OK)
        return code;
    if (!json_is_object(body)) {
        amp_err_field(err, "", "object", "the body must be a JSON object");
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    }
    static const rc_field fields[] = {
        {"standard_working_days", RF_INT, NULL, false, false, 1, 60},
        {"emergency_hours", RF_INT, NULL, false, false, 1, 168},
        {"initial_decision_working_days", RF_INT, NULL, false, false, 1, 120},
        {"reflection_period_days", RF_INT, NULL, false, false, 0, 365},
        {"conclusive_decision_working_days", RF_INT, NULL, false, false, 1, 365},
        {NULL, 0, NULL, false, false, 0, 0},
    };
    static const char *const allow[] = {"calendars", "indicators", "version", NULL};
    rc_check(c, p, fields, body, false, allow, err);
    const json_t *cals = json_object_get(body, "calendars");
    if (cals)
        workdays_validate(cals, "calendars.", p->lang, err);
    const json_t *ind = json_object_get(body, "indicators");
    if (ind)
        check_indicators(p, ind, err);
    int64_t version = if_match;
    const json_t *bv = json_object_get(body, "version");
    if (bv && (!json_is_integer(bv) || json_integer_value(bv) < 1))
        amp_err_field(err, "version", "type", "version must be a positive integer");
    else if (bv && version <= 0)
        version = json_integer_value(bv);
    if (json_array_size(err->fields))
        return rc_invalid(p, err);
    json_t *doc = json_deep_copy(body);
    json_object_del(doc, "version");
    settings_put_ctx x = {doc, version};
    rc_job j;
    rc_job_init(&j, c, p, job_settings_put, &x, err);
    code = rc_job_run(&j);
    json_decref(doc);
    if (code != AMP_OK)
        return code;
    *out = settings_answer(c, json_integer_value(j.result));
    json_decref(j.result);
    return AMP_OK;
}

/* ==== organisations ===================================================================== */

bool rc_org_country(core *c, const char *org, char out[3])
{
    out[0] = '\0';
    store_row r;
    if (!org || !*org || store_org_get(core_store(c), org, &r) != STORE_OK)
        return false;
    const char *cc = json_string_value(json_object_get(r.doc, "amp_OrgCountry"));
    if (!cc)
        cc = json_string_value(json_object_get(r.doc, "org_ShippingCountry"));
    snprintf(out, 3, "%s", cc ? cc : "");
    store_row_release(&r);
    return true;
}

char *rc_org_name(core *c, const char *org)
{
    store_row r;
    if (!org || !*org || store_org_get(core_store(c), org, &r) != STORE_OK)
        return NULL;
    const char *n = json_string_value(json_object_get(r.doc, "org_Name"));
    char *out = n ? strdup(n) : NULL;
    store_row_release(&r);
    return out;
}

/* ==== records ============================================================================ */

json_t *rc_record_json(const store_record *r)
{
    json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "id", r->uid, "version",
                          (json_int_t)r->version, "created_at", r->created_at, "updated_at",
                          r->updated_at, "created_by", r->created_by, "updated_by", r->updated_by);
    if (r->doc)
        json_object_update_missing(o, r->doc);
    return o;
}

void rc_record_init(store_record *r, const char *kind, const char *uid, const principal *p,
                    const char *now)
{
    memset(r, 0, sizeof *r);
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    if (uid)
        snprintf(r->uid, sizeof r->uid, "%s", uid);
    else
        uuid_v7(r->uid);
    snprintf(r->created_at, sizeof r->created_at, "%s", now);
    snprintf(r->created_by, sizeof r->created_by, "%s", p->actor);
    rc_record_touch(r, p, now);
}

void rc_key_uid(const char *a, const char *b, char out[40])
{
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)a, strlen(a) + 1);
    crypto_generichash_update(&st, (const unsigned char *)b, strlen(b) + 1);
    crypto_generichash_final(&st, h, sizeof h);
    for (size_t i = 0; i < sizeof h; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

void rc_record_touch(store_record *r, const principal *p, const char *now)
{
    snprintf(r->updated_at, sizeof r->updated_at, "%s", now);
    snprintf(r->updated_by, sizeof r->updated_by, "%s", p->actor);
}

/* ==== request bodies ====================================================================== */

static void field_err(const principal *p, amp_err *err, const char *field, const char *rule,
                      const char *detail)
{
    char msg[512];
    validate_render(p->lang, rule, field, detail ? detail : "", msg, sizeof msg);
    amp_err_field(err, field, rule, msg);
}

static bool has_control(const char *s, bool allow_newlines)
{
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if (*u < 0x20 && !(allow_newlines && (*u == '\n' || *u == '\t' || *u == '\r')))
            return true;
        if (*u == 0x7f)
            return true;
    }
    return false;
}

static bool text_ok(const principal *p, amp_err *err, const char *name, const json_t *v, size_t max,
                    bool newlines)
{
    if (!json_is_string(v)) {
        field_err(p, err, name, "type", "text");
        return false;
    }
    const char *s = json_string_value(v);
    char d[24];
    if (utf8_length(s) > max) {
        snprintf(d, sizeof d, "%zu", max);
        field_err(p, err, name, "max_length", d);
        return false;
    }
    if (!*s) {
        field_err(p, err, name, "required", NULL);
        return false;
    }
    if (has_control(s, newlines)) {
        field_err(p, err, name, "control_characters", NULL);
        return false;
    }
    return true;
}

static bool is_upper3(const char *s)
{
    return s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
           s[2] >= 'A' && s[2] <= 'Z';
}

static void check_codes(core *c, const principal *p, amp_err *err, const rc_field *f,
                        const json_t *v)
{
    size_t max = f->max > 0 ? (size_t)f->max : 32;
    if (!json_is_array(v)) {
        field_err(p, err, f->name, "type", "a list");
        return;
    }
    char d[24];
    if (json_array_size(v) > max) {
        snprintf(d, sizeof d, "%zu", max);
        field_err(p, err, f->name, "max_items", d);
        return;
    }
    size_t i, k;
    json_t *x;
    json_array_foreach (v, i, x) {
        const char *s = json_string_value(x);
        char safe[120];
        if (!s) {
            field_err(p, err, f->name, "type", "a list of texts");
            return;
        }
        utf8_sanitize(s, safe, sizeof safe);
        bool ok = true;
        switch (f->kind) {
        case RF_CODES: ok = rc_picklist_has(c, f->list, s); break;
        case RF_LANGUAGES: ok = catalogue_is_language(core_catalogue(c), s); break;
        default: ok = utf8_length(s) <= 200 && *s && !has_control(s, false); break;
        }
        if (!ok) {
            field_err(p, err, f->name,
                      f->kind == RF_LANGUAGES ? "language"
                      : f->kind == RF_CODES   ? "picklist"
                                              : "max_length",
                      f->kind == RF_STRINGS ? "200" : safe);
            return;
        }
        for (k = 0; k < i; k++) {
            if (strcmp(json_string_value(json_array_get(v, k)), s) == 0) {
                field_err(p, err, f->name, "duplicate", safe);
                return;
            }
        }
    }
}

static void check_one(core *c, const principal *p, amp_err *err, const rc_field *f, const json_t *v)
{
    const char *s = json_string_value(v);
    char safe[120];
    utf8_sanitize(s ? s : "", safe, sizeof safe);
    char d[48];
    switch (f->kind) {
    case RF_TEXT: text_ok(p, err, f->name, v, f->max > 0 ? (size_t)f->max : 200, false); break;
    case RF_LONGTEXT: text_ok(p, err, f->name, v, f->max > 0 ? (size_t)f->max : 10000, true); break;
    case RF_CODE:
        if (!s)
            field_err(p, err, f->name, "type", "a code");
        else if (!rc_picklist_has(c, f->list, s))
            field_err(p, err, f->name, "picklist", safe);
        break;
    case RF_CODES:
    case RF_LANGUAGES:
    case RF_STRINGS: check_codes(c, p, err, f, v); break;
    case RF_DATE:
        if (!s || strlen(s) != 10 || !validate_date(s))
            field_err(p, err, f->name, "date", NULL);
        break;
    case RF_TIMESTAMP: {
        int64_t t;
        if (!s || strlen(s) < 20 || clock_parse(s, &t) != 0)
            field_err(p, err, f->name, "type", "a UTC timestamp YYYY-MM-DDTHH:MM:SSZ");
        break;
    }
    case RF_INT:
    case RF_NUMBER:
        if (f->kind == RF_INT ? !json_is_integer(v) : !json_is_number(v)) {
            field_err(p, err, f->name, f->kind == RF_INT ? "integer" : "type", "a number");
        } else if (json_number_value(v) < f->min) {
            snprintf(d, sizeof d, "%g", f->min);
            field_err(p, err, f->name, "min", d);
        } else if (f->max > f->min && json_number_value(v) > f->max) {
            snprintf(d, sizeof d, "%g", f->max);
            field_err(p, err, f->name, "max", d);
        }
        break;
    case RF_BOOL:
        if (!json_is_boolean(v))
            field_err(p, err, f->name, "type", "true or false");
        break;
    case RF_ORG: {
        store_row r;
        if (!s || !validate_identifier(s)) {
            field_err(p, err, f->name, "type", "an organisation identifier");
        } else if (store_org_get(core_store(c), s, &r) != STORE_OK) {
            field_err(p, err, f->name, "lookup", "organisation");
        } else {
            store_row_release(&r);
        }
        break;
    }
    case RF_COUNTRY:
        if (!s || !catalogue_is_country(core_catalogue(c), s))
            field_err(p, err, f->name, "country", safe);
        break;
    case RF_LANGUAGE:
        if (!s || !catalogue_is_language(core_catalogue(c), s))
            field_err(p, err, f->name, "language", safe);
        break;
    case RF_CURRENCY:
        if (!is_upper3(s))
            field_err(p, err, f->name, "type", "an ISO 4217 currency code such as USD");
        break;
    case RF_UUID:
        if (!s || !uuid_valid(s))
            field_err(p, err, f->name, "type", "a record identifier (UUID)");
        break;
    case RF_EMAIL:
        if (!s || strlen(s) > 254 || !validate_email(s))
            field_err(p, err, f->name, "email", NULL);
        break;
    case RF_PHONE:
        if (!s || !validate_e164(s))
            field_err(p, err, f->name, "phone", NULL);
        break;
    case RF_CHECKLIST: {
        if (!json_is_object(v)) {
            field_err(p, err, f->name, "type", "an object of true/false answers");
            break;
        }
        const char *k;
        json_t *x;
        json_object_foreach ((json_t *)v, k, x) {
            char path[200], ks[100];
            utf8_sanitize(k, ks, sizeof ks);
            snprintf(path, sizeof path, "%s.%s", f->name, ks);
            if (!rc_picklist_has(c, f->list, k))
                field_err(p, err, path, "unknown_field", NULL);
            else if (!json_is_boolean(x))
                field_err(p, err, path, "type", "true or false");
        }
        break;
    }
    }
}

int rc_check(core *c, const principal *p, const rc_field *fields, const json_t *body, bool whole,
             const char *const *allow, amp_err *err)
{
    size_t before = json_array_size(err->fields);
    if (!json_is_object(body)) {
        amp_err_field(err, "", "object", "the body must be a JSON object");
        return 1;
    }
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)body, key, v) {
        bool allowed = false;
        for (const char *const *a = allow; a && *a && !allowed; a++)
            allowed = strcmp(*a, key) == 0;
        if (allowed)
            continue;
        const rc_field *f = NULL;
        for (const rc_field *x = fields; x->name && !f; x++) {
            if (strcmp(x->name, key) == 0)
                f = x;
        }
        char safe[120];
        utf8_sanitize(key, safe, sizeof safe);
        if (!f) {
            field_err(p, err, safe, "unknown_field", NULL);
            continue;
        }
        if (json_is_null(v)) {
            if (f->required && whole)
                field_err(p, err, f->name, "required", NULL);
            continue;
        }
        check_one(c, p, err, f, v);
    }
    for (const rc_field *x = fields; whole && x->name; x++) {
        if (x->required && !json_object_get(body, x->name))
            field_err(p, err, x->name, "required", NULL);
    }
    return (int)(json_array_size(err->fields) - before);
}

amp_code rc_invalid(const principal *p, amp_err *err)
{
    const json_t *f0 = json_array_get(err->fields, 0);
    if (json_array_size(err->fields) == 1 &&
        strcmp(json_string_value(json_object_get(f0, "rule")), "object") == 0)
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
}

void rc_strip_identity(const rc_field *fields, json_t *doc)
{
    for (const rc_field *f = fields; f->name; f++) {
        if (f->identity)
            json_object_del(doc, f->name);
    }
}

amp_code rc_identity_write(const principal *p, const rc_field *fields, const json_t *body,
                           authz_action a, amp_err *err)
{
    if (authz_allows(p, a, RES_CASE_IDENTITY) || !json_is_object(body))
        return AMP_OK;
    bool refused = false;
    for (const rc_field *f = fields; f->name; f++) {
        const json_t *v = json_object_get(body, f->name);
        if (f->identity && v && !json_is_null(v)) {
            amp_err_field(err, f->name, "forbidden",
                          "your roles may not write identity fields or free text");
            refused = true;
        }
    }
    return refused ? amp_err_set(err, AMP_EFORBIDDEN, "your roles may not write identity fields")
                   : AMP_OK;
}

json_t *rc_merge(const json_t *doc, const json_t *patch)
{
    json_t *out = doc ? json_deep_copy(doc) : json_object();
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)patch, k, v) {
        if (json_is_null(v))
            json_object_del(out, k);
        else
            json_object_set(out, k, v);
    }
    return out;
}

amp_code rc_take_version(const json_t *body, int64_t if_match, int64_t *version, bool *from_header,
                         amp_err *err)
{
    *version = 0;
    *from_header = false;
    const json_t *v = json_object_get(body, "version");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
        amp_err_field(err, "version", "type", "version must be a positive integer");
        return amp_err_set(err, AMP_EINVALID, "version must be a positive integer");
    }
    if (if_match > 0) {
        *version = if_match;
        *from_header = true;
    } else if (v) {
        *version = json_integer_value(v);
    }
    return AMP_OK;
}

amp_code rc_paging(const principal *p, const char *limit, const char *offset, int *lim, int *off,
                   amp_err *err)
{
    *lim = CASES_DEFAULT_LIMIT;
    *off = 0;
    char *end;
    char msg[256];
    if (limit) {
        long v = strtol(limit, &end, 10);
        if (!*limit || *end || v < 1 || v > CASES_MAX_LIMIT) {
            validate_render(p->lang, "list.limit", "limit", "500", msg, sizeof msg);
            amp_err_field(err, "limit", "list.limit", msg);
            return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
        }
        *lim = (int)v;
    }
    if (offset) {
        long v = strtol(offset, &end, 10);
        if (!*offset || *end || v < 0 || v > 100000000) {
            validate_render(p->lang, "list.offset", "offset", "", msg, sizeof msg);
            amp_err_field(err, "offset", "list.offset", msg);
            return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
        }
        *off = (int)v;
    }
    return AMP_OK;
}

const char *rc_param(const list_param *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(params[i].name, name) == 0)
            return params[i].value;
    }
    return NULL;
}

const char *rc_unknown_param(const list_param *params, size_t n, const char *const *known)
{
    for (size_t i = 0; i < n; i++) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, params[i].name) == 0;
        if (!ok)
            return params[i].name;
    }
    return NULL;
}

amp_code rc_unknown_param_error(const principal *p, const char *name, amp_err *err)
{
    char msg[256], safe[64];
    utf8_sanitize(name, safe, sizeof safe);
    validate_render(p->lang, "list.unknown", safe, "", msg, sizeof msg);
    amp_err_field(err, safe, "list.unknown", msg);
    return rc_fail(err, p, AMP_EINVALID, "invalid", NULL);
}

/* ==== write jobs ===============================================================================
 */

void rc_job_init(rc_job *j, core *c, const principal *p, rc_apply_fn apply, void *ctx, amp_err *err)
{
    memset(j, 0, sizeof *j);
    j->c = c;
    j->p = p;
    j->apply = apply;
    j->ctx = ctx;
    j->err = err;
    clock_now(j->now);
    clock_today(j->today);
    /* a fixed "today" (tests) also dates the writes' day, so that deadlines and
     * dates agree with the validation's notion of today */
}

#define RC_JOB_FAILED 100

static int trampoline(store_tx *tx, void *arg)
{
    rc_job *j = arg;
    return j->apply(j, tx);
}

amp_code rc_job_run(rc_job *j)
{
    int rc = store_run(core_store(j->c), trampoline, j);
    if (rc == STORE_OK && j->code == AMP_OK)
        return AMP_OK;
    json_decref(j->result);
    j->result = NULL;
    if (j->code != AMP_OK)
        return j->code;
    log_error("referrals: a write was not committed (store code %d)", rc);
    return rc_fail(j->err, j->p, AMP_EINTERNAL, "storage", NULL);
}

int rc_job_case_patch(rc_job *j, store_tx *tx, const char *case_uid, const json_t *patch,
                      bool derived)
{
    principal sys = *j->p;
    sys.internal = true;
    amp_err e = {0};
    amp_code code = cases_tx_patch(tx, j->c, &sys, case_uid, patch, &e);
    if (derived && code == AMP_EINVALID)
        log_error("case %.40s does not validate; its derived fields stay as they were: %s",
                  case_uid, e.message);
    if (code == AMP_OK || (derived && (code == AMP_ESTATE || code == AMP_EINVALID))) {
        amp_err_clear(&e);
        return STORE_OK;
    }
    if (code == AMP_EINTERNAL)
        log_error("referrals: a case's fields could not be set: %s", e.message);
    amp_err_clear(j->err);
    *j->err = e; /* moved */
    j->code = code;
    json_decref(j->result);
    j->result = NULL;
    return RC_JOB_FAILED + (int)code;
}

int rc_job_fail(rc_job *j, amp_code code, const char *key, const char *arg)
{
    j->code = rc_fail(j->err, j->p, code, key, arg);
    json_decref(j->result);
    j->result = NULL;
    return RC_JOB_FAILED + (int)code;
}

int rc_job_store_fail(rc_job *j, int rc, const char *what)
{
    if (rc == STORE_NOTFOUND) {
        j->code = amp_err_set(j->err, AMP_ENOTFOUND, "no such %s", what);
    } else if (rc == STORE_CONFLICT || rc == STORE_EXISTS) {
        j->code = amp_err_set(j->err, AMP_ECONFLICT, "the %s was changed by someone else", what);
    } else {
        log_error("referrals: storage failure on a %s (code %d)", what, rc);
        j->code = rc_fail(j->err, j->p, AMP_EINTERNAL, "storage", NULL);
    }
    json_decref(j->result);
    j->result = NULL;
    return RC_JOB_FAILED + (int)j->code;
}

int rc_job_check_version(rc_job *j, int64_t current, int64_t wanted, bool from_header)
{
    if (wanted <= 0 || wanted == current)
        return STORE_OK;
    char v[24];
    snprintf(v, sizeof v, "%lld", (long long)current);
    return rc_job_fail(j, from_header ? AMP_EPRECOND : AMP_ECONFLICT, "conflict", v);
}

/* ==== the case behind a record
 * ===================================================================== */

const char *rc_age_group(const json_t *doc, const char *today)
{
    const char *b = json_string_value(json_object_get(doc, "prs_Birthdate"));
    int by, bm, bd, ty, tm, td;
    if (!b || !today || sscanf(b, "%4d-%2d-%2d", &by, &bm, &bd) != 3 ||
        sscanf(today, "%4d-%2d-%2d", &ty, &tm, &td) != 3)
        return NULL;
    int age = ty - by - (tm < bm || (tm == bm && td < bd));
    if (age < 0)
        return NULL;
    static const struct {
        int upto;
        const char *name;
    } groups[] = {{8, "0--8"},    {17, "9--17"},  {20, "18--20"}, {23, "21--23"},
                  {26, "24--26"}, {29, "27--29"}, {38, "30--38"}, {47, "39--47"}};
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) {
        if (age <= groups[i].upto)
            return groups[i].name;
    }
    return "48+";
}

json_t *rc_case_summary(const store_row *row, const char *today)
{
    const json_t *d = row->doc;
    json_t *o =
        json_pack("{s:s, s:b}", "reference", row->reference, "child", consent_is_child(d, today));
    static const char *const keep[] = {"prs_Gender",
                                       "prs_Citizenship",
                                       "prs_PrimaryLanguage",
                                       "vic_TraffickingStatus",
                                       "vic_TypeOfExploitation",
                                       "cas_Status",
                                       "amp_RegistrationCountry",
                                       NULL};
    for (const char *const *k = keep; *k; k++) {
        json_t *v = json_object_get(d, *k);
        if (v)
            json_object_set(o, *k, v);
    }
    const char *ag = rc_age_group(d, today);
    if (ag)
        json_object_set_new(o, "age_group", json_string(ag));
    return o;
}

bool rc_is_org(const principal *p, const char *org)
{
    return p->internal || (p->org[0] && org && strcmp(p->org, org) == 0);
}

bool rc_is_coordinator(const principal *p)
{
    return p->internal || (p->roles & ROLE_COORDINATOR);
}
