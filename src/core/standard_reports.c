/* standard_reports.c — the report packs and the dashboard (see standard_reports.h). */
#include "core/standard_reports.h"
#include "core/audit.h"
#include "core/disclosure.h"
#include "core/report.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T4(en, es, fr, uk)                                                                         \
    {                                                                                              \
        en, es, fr, uk                                                                             \
    }

/* One table of a pack: its name, titles, and crosstab parameters
 * ("name=value" strings; "{from}"/"{to}" are replaced by the year's bounds). */
typedef struct {
    const char *name;
    const char *title[4];
    const char *params[8];
} pack_table;

typedef struct {
    const char *name;
    const char *title[4];
    const char *description;
    pack_table tables[20];
} pack;

static const pack packs[] = {
    {"action-plan",
     T4("National action plan: protection figures", "Plan nacional de acción: cifras de protección",
        "Plan national d'action : chiffres de la protection",
        "Національний план дій: показники захисту"),
     "victims identified and assisted by year, sex, age, nationality and exploitation; assistance "
     "by type; referrals and response times; returns; shelter stays; reintegration; trainings",
     {{"victims_by_year_sex",
       T4("Victims identified by year and sex", "Víctimas identificadas por año y sexo",
          "Victimes identifiées par année et sexe", "Виявлені постраждалі за роком і статтю"),
       {"dims=year,gender",
        "trafficking_status=ActualVictimOfTrafficking,PossibleVictimOfTrafficking"}},
      {"victims_by_age_sex",
       T4("Victims by age group and sex", "Víctimas por grupo de edad y sexo",
          "Victimes par tranche d'âge et sexe", "Постраждалі за віковою групою і статтю"),
       {"dims=age_group,gender", "from={from}", "to={to}"}},
      {"victims_by_nationality",
       T4("Victims by nationality", "Víctimas por nacionalidad", "Victimes par nationalité",
          "Постраждалі за громадянством"),
       {"dims=citizenship", "from={from}", "to={to}"}},
      {"victims_by_exploitation",
       T4("Victims by type of exploitation", "Víctimas por tipo de explotación",
          "Victimes par type d'exploitation", "Постраждалі за видом експлуатації"),
       {"dims=exploitation,majority", "from={from}", "to={to}"}},
      {"victims_by_route",
       T4("Internal and cross-border trafficking", "Trata interna y transfronteriza",
          "Traite interne et transfrontalière", "Внутрішня та транскордонна торгівля"),
       {"dims=border,exploitation", "from={from}", "to={to}"}},
      {"status_decisions",
       T4("Identification decisions", "Decisiones de identificación", "Décisions d'identification",
          "Рішення про ідентифікацію"),
       {"dims=trafficking_status,decision_org", "from={from}", "to={to}"}},
      {"assistance_by_type",
       T4("Assistance by type", "Asistencia por tipo", "Assistance par type", "Допомога за видом"),
       {"entity=assistance", "dims=type", "from={from}", "to={to}"}},
      {"referrals_by_status",
       T4("Referrals by status", "Derivaciones por estado", "Orientations par statut",
          "Перенаправлення за станом"),
       {"entity=referrals", "dims=status", "from={from}", "to={to}"}},
      {"referral_response_times",
       T4("Referral response time (hours)", "Tiempo de respuesta a derivaciones (horas)",
          "Délai de réponse aux orientations (heures)", "Час відповіді на перенаправлення (годин)"),
       {"entity=referrals", "dims=quarter", "measure=mean:response_hours", "from={from}",
        "to={to}"}},
      {"returns",
       T4("Returns and reunifications", "Retornos y reunificaciones", "Retours et réunifications",
          "Повернення та возз'єднання"),
       {"entity=returns", "dims=type", "from={from}", "to={to}"}},
      {"shelter_stays",
       T4("Shelter stays and length of stay (days)", "Estancias y duración (días)",
          "Séjours et durée (jours)", "Перебування та тривалість (днів)"),
       {"entity=stays", "dims=shelter", "measure=mean:length_of_stay_days", "from={from}",
        "to={to}"}},
      {"reintegration_outcomes",
       T4("Reintegration monitoring outcomes", "Resultados del seguimiento de la reintegración",
          "Résultats du suivi de la réintégration", "Результати моніторингу реінтеграції"),
       {"entity=visits", "dims=outcome", "measure=mean:score", "from={from}", "to={to}"}},
      {"trainings",
       T4("Trainings and participants", "Capacitaciones y participantes",
          "Formations et participants", "Навчання та учасники"),
       {"entity=trainings", "dims=audience", "measure=sum:participants", "from={from}", "to={to}"}},
      {NULL, {NULL}, {NULL}}}},
    {"donor-results",
     T4("Donor results report", "Informe de resultados para donantes",
        "Rapport de résultats pour les bailleurs", "Звіт про результати для донорів"),
     "programme indicators against their targets, with the assistance figures behind them",
     {{"victims_assisted",
       T4("Victims assisted by sex and age", "Víctimas asistidas por sexo y edad",
          "Victimes assistées par sexe et âge",
          "Постраждалі, яким надано допомогу, за статтю і віком"),
       {"dims=gender,majority", "from={from}", "to={to}"}},
      {"foreign_victims",
       T4("Victims by nationality", "Víctimas por nacionalidad", "Victimes par nationalité",
          "Постраждалі за громадянством"),
       {"dims=citizenship", "from={from}", "to={to}"}},
      {"assistance_by_type",
       T4("Assistance by type and cost", "Asistencia por tipo y costo",
          "Assistance par type et coût", "Допомога за видом і вартістю"),
       {"entity=assistance", "dims=type", "measure=sum:cost", "from={from}", "to={to}"}},
      {"returns",
       T4("Returns and reunifications", "Retornos y reunificaciones", "Retours et réunifications",
          "Повернення та возз'єднання"),
       {"entity=returns", "dims=type", "from={from}", "to={to}"}},
      {"trainings",
       T4("People trained", "Personas capacitadas", "Personnes formées", "Навчені особи"),
       {"entity=trainings", "dims=audience", "measure=sum:participants", "from={from}", "to={to}"}},
      {NULL, {NULL}, {NULL}}}},
    {"nrm-quarterly",
     T4("National referral mechanism: quarterly figures",
        "Mecanismo nacional de derivación: cifras trimestrales",
        "Mécanisme national d'orientation : chiffres trimestriels",
        "Національний механізм перенаправлення: квартальні показники"),
     "identifications, sex, age, exploitation, route, referrals and hotline contacts by quarter",
     {{"identifications",
       T4("Identifications by quarter and status", "Identificaciones por trimestre y condición",
          "Identifications par trimestre et statut", "Ідентифікації за кварталом і статусом"),
       {"dims=quarter,trafficking_status", "from={from}", "to={to}"}},
      {"sex",
       T4("By quarter and sex", "Por trimestre y sexo", "Par trimestre et sexe",
          "За кварталом і статтю"),
       {"dims=quarter,gender", "from={from}", "to={to}"}},
      {"age",
       T4("By quarter, minors and adults", "Por trimestre, menores y adultos",
          "Par trimestre, mineurs et majeurs", "За кварталом, неповнолітні та дорослі"),
       {"dims=quarter,majority", "from={from}", "to={to}"}},
      {"exploitation",
       T4("By quarter and type of exploitation", "Por trimestre y tipo de explotación",
          "Par trimestre et type d'exploitation", "За кварталом і видом експлуатації"),
       {"dims=quarter,exploitation", "from={from}", "to={to}"}},
      {"route",
       T4("By quarter, internal or cross-border", "Por trimestre, interna o transfronteriza",
          "Par trimestre, interne ou transfrontalière", "За кварталом, внутрішня чи транскордонна"),
       {"dims=quarter,border", "from={from}", "to={to}"}},
      {"region",
       T4("By quarter and province of exploitation", "Por trimestre y provincia de explotación",
          "Par trimestre et province d'exploitation", "За кварталом і областю експлуатації"),
       {"dims=quarter,province", "from={from}", "to={to}"}},
      {"referrals",
       T4("Referrals by quarter and status", "Derivaciones por trimestre y estado",
          "Orientations par trimestre et statut", "Перенаправлення за кварталом і станом"),
       {"entity=referrals", "dims=quarter,status", "from={from}", "to={to}"}},
      {"hotline",
       T4("Hotline contacts by quarter and channel", "Contactos de la línea por trimestre y canal",
          "Appels par trimestre et canal", "Звернення на гарячу лінію за кварталом і каналом"),
       {"entity=hotline_contacts", "dims=quarter,channel", "from={from}", "to={to}"}},
      {NULL, {NULL}, {NULL}}}},
};
#define NPACKS (sizeof packs / sizeof *packs)

static int lang_index(const char *lang)
{
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    for (int i = 0; lang && i < 4; i++)
        if (strncmp(lang, langs[i], 2) == 0)
            return i;
    return 0;
}

static json_t *title_json(const char *const t[4])
{
    return json_pack("{s:s, s:s, s:s, s:s}", "en", t[0], "es", t[1], "fr", t[2], "uk", t[3]);
}

json_t *standard_reports_list(void)
{
    json_t *items = json_array();
    for (size_t i = 0; i < NPACKS; i++)
        json_array_append_new(items, json_pack("{s:s, s:o, s:s}", "name", packs[i].name, "title",
                                               title_json(packs[i].title), "description",
                                               packs[i].description));
    return json_pack("{s:o}", "items", items);
}

/* Runs one table; params are expanded with the year's bounds and publish=true. */
static amp_code run_table(core *c, const principal *p, const pack_table *t, const char *year,
                          json_t **out, amp_err *err)
{
    list_param ps[12];
    char sbuf[12][256];
    size_t n = 0;
    for (int i = 0; i < 8 && t->params[i]; i++) {
        const char *eq = strchr(t->params[i], '=');
        char *name = sbuf[n];
        snprintf(name, 64, "%.*s", (int)(eq - t->params[i]), t->params[i]);
        char *value = sbuf[n] + 64;
        const char *v = eq + 1;
        if (strcmp(v, "{from}") == 0)
            snprintf(value, 192, "%.4s-01-01", year);
        else if (strcmp(v, "{to}") == 0)
            snprintf(value, 192, "%.4s-12-31", year);
        else
            snprintf(value, 192, "%s", v);
        ps[n].name = name;
        ps[n++].value = value;
    }
    ps[n].name = "publish";
    ps[n++].value = "true";
    amp_code code = report_crosstab(c, p, ps, n, out, err);
    if (code == AMP_OK) {
        json_object_set_new(*out, "name", json_string(t->name));
        json_object_set_new(*out, "title", json_string(t->title[lang_index(p->lang)]));
        json_object_set_new(*out, "titles", title_json(t->title));
    }
    return code;
}

/* Indicators against targets: records of kind "indicator" whose document has
 * name, target and either "actual" or "query" (crosstab parameters as an
 * object: the grand total is the actual). */
static json_t *indicators_table(core *c, const principal *p, const char *year)
{
    store_record_query q = {.kind = "indicator"};
    store_record *rows = NULL;
    int n = 0;
    json_t *items = json_array();
    if (store_record_list(core_store(c), &q, &rows, &n, NULL) != STORE_OK)
        return json_pack("{s:s, s:o, s:s}", "name", "indicators", "items", items, "error",
                         "the indicators could not be read");
    for (int i = 0; i < n; i++) {
        const json_t *d = rows[i].doc;
        const char *period = json_string_value(json_object_get(d, "period"));
        if (period && strncmp(period, year, 4) != 0)
            continue;
        json_t *actual = json_null();
        bool suppressed = false;
        const json_t *query = json_object_get(d, "query");
        if (json_is_object(query)) {
            list_param ps[16];
            size_t np = 0;
            char vals[16][64];
            const char *k;
            const json_t *v;
            json_object_foreach ((json_t *)query, k, v) {
                if (np >= 13)
                    break;
                if (json_is_string(v))
                    snprintf(vals[np], sizeof vals[np], "%s", json_string_value(v));
                else if (json_is_integer(v))
                    snprintf(vals[np], sizeof vals[np], "%lld", (long long)json_integer_value(v));
                else
                    continue;
                ps[np].name = k;
                ps[np].value = vals[np];
                np++;
            }
            char from[16], to[16];
            snprintf(from, sizeof from, "%.4s-01-01", year);
            snprintf(to, sizeof to, "%.4s-12-31", year);
            ps[np].name = "from";
            ps[np++].value = from;
            ps[np].name = "to";
            ps[np++].value = to;
            ps[np].name = "publish";
            ps[np++].value = "true";
            json_t *t = NULL;
            amp_err e = {0};
            if (report_crosstab(c, p, ps, np, &t, &e) == AMP_OK) {
                const json_t *tot =
                    json_array_get(json_object_get(t, "totals"),
                                   json_array_size(json_object_get(t, "totals")) - 1);
                suppressed = json_is_true(json_object_get(tot, "suppressed"));
                actual = json_incref(json_object_get(tot, "count"));
                if (!actual)
                    actual = json_null();
            }
            json_decref(t);
            amp_err_clear(&e);
        } else if (json_is_number(json_object_get(d, "actual"))) {
            actual = json_incref(json_object_get(d, "actual"));
        }
        const json_t *target = json_object_get(d, "target");
        json_t *pct = json_null();
        if (json_is_number(target) && json_number_value(target) > 0 && json_is_number(actual))
            pct = json_real(
                (double)(long)(json_number_value(actual) * 1000 / json_number_value(target)) /
                10.0);
        json_t *item = json_pack("{s:s, s:s, s:O, s:o, s:o}", "id", rows[i].uid, "name",
                                 json_string_value(json_object_get(d, "name"))
                                     ? json_string_value(json_object_get(d, "name"))
                                     : rows[i].uid,
                                 "target", target ? target : json_null(), "actual", actual,
                                 "achieved_percent", pct);
        if (suppressed)
            json_object_set_new(item, "suppressed", json_true());
        json_array_append_new(items, item);
    }
    for (int i = 0; i < n; i++)
        store_record_release(&rows[i]);
    free(rows);
    return json_pack("{s:s, s:s, s:o}", "name", "indicators", "title", "Indicators against targets",
                     "items", items);
}

amp_code standard_report_run(core *c, const principal *p, const char *name, const char *year,
                             json_t **out, amp_err *err)
{
    *out = NULL;
    amp_code code = authz_require(p, ACT_READ, RES_REPORT, err);
    if (code != AMP_OK)
        return code;
    const pack *pk = NULL;
    for (size_t i = 0; i < NPACKS; i++)
        if (strcmp(packs[i].name, name) == 0)
            pk = &packs[i];
    if (!pk)
        return amp_err_set(err, AMP_ENOTFOUND, "no standard report is called '%.60s'", name);
    char y[8];
    if (year) {
        if (strlen(year) != 4 || strspn(year, "0123456789") != 4 || atoi(year) < 1990 ||
            atoi(year) > 2200) {
            amp_err_field(err, "year", "pattern", "year must be YYYY (1990-2200)");
            return amp_err_set(err, AMP_EINVALID, "year must be YYYY");
        }
        snprintf(y, sizeof y, "%s", year);
    } else {
        char today[11];
        clock_today(today);
        snprintf(y, sizeof y, "%.4s", today);
    }
    json_t *tables = json_array();
    for (int i = 0; i < 20 && pk->tables[i].name; i++) {
        json_t *t = NULL;
        amp_err e = {0};
        if (run_table(c, p, &pk->tables[i], y, &t, &e) == AMP_OK) {
            json_array_append_new(tables, t);
        } else {
            json_array_append_new(
                tables, json_pack("{s:s, s:s, s:s}", "name", pk->tables[i].name, "title",
                                  pk->tables[i].title[lang_index(p->lang)], "error", e.message));
        }
        amp_err_clear(&e);
    }
    if (strcmp(pk->name, "donor-results") == 0)
        json_array_insert_new(tables, 0, indicators_table(c, p, y));
    char now[32];
    clock_now(now);
    *out = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o}", "name", pk->name, "title",
                     pk->title[lang_index(p->lang)], "titles", title_json(pk->title), "year", y,
                     "generated_at", now, "tables", tables);
    json_t *detail = json_pack("{s:s, s:s}", "report", pk->name, "year", y);
    code = audit_log(c, p, "report.standard", "report", pk->name, detail, err);
    json_decref(detail);
    if (code != AMP_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return code;
}

/* ==== the dashboard ====================================================================== */

/* Stays active in each of the last 12 months (admitted on or before the
 * month's end, not discharged before its start), disclosure-controlled as a
 * one-dimensional table when asked. */
static json_t *occupancy(core *c, const principal *p, bool controlled)
{
    char today[11];
    clock_today(today);
    int y = atoi(today), m = atoi(today + 5);
    char months[12][8];
    for (int i = 11; i >= 0; i--) {
        snprintf(months[i], sizeof months[i], "%04d-%02d", y, m);
        if (--m == 0) {
            m = 12;
            y--;
        }
    }
    store_record_query q = {.kind = "stay"};
    store_record *rows = NULL;
    int n = 0;
    dc_table t;
    size_t sz = 12;
    amp_err e = {0};
    if (dc_table_init(&t, 1, &sz, &e) != AMP_OK)
        return json_null();
    if (store_record_list(core_store(c), &q, &rows, &n, NULL) == STORE_OK) {
        for (int i = 0; i < n; i++) {
            store_record *r = &rows[i];
            if (!controlled && !p->internal && strcmp(r->org, p->org) != 0 &&
                strcmp(r->org2, p->org) != 0)
                continue;
            const char *in = json_string_value(json_object_get(r->doc, "admitted_on"));
            const char *out = json_string_value(json_object_get(r->doc, "discharged_on"));
            if (!in)
                continue;
            bool any = false;
            for (int k = 0; k < 12; k++) {
                char end[12], start[12];
                snprintf(start, sizeof start, "%s-01", months[k]);
                snprintf(end, sizeof end, "%s-31", months[k]);
                if (strncmp(in, end, 10) <= 0 && (!out || strncmp(out, start, 10) >= 0)) {
                    t.count[k]++;
                    any = true;
                }
            }
            t.count[12] += any;
            store_record_release(r);
        }
        free(rows);
    }
    disclosure_opts o = {.threshold = controlled ? DC_DEFAULT_THRESHOLD : 0};
    if (controlled)
        disclosure_apply(&t, &o);
    json_t *cells = json_array();
    for (int k = 0; k < 12; k++)
        json_array_append_new(cells, t.status[k] ? json_pack("{s:s, s:n, s:b}", "month", months[k],
                                                             "count", "suppressed", 1)
                                                 : json_pack("{s:s, s:I}", "month", months[k],
                                                             "count", (json_int_t)t.count[k]));
    json_t *res =
        json_pack("{s:o, s:o}", "cells", cells, "disclosure", disclosure_describe(&t, &o));
    dc_table_release(&t);
    return res;
}

amp_code report_dashboard(core *c, const principal *p, json_t **out, amp_err *err)
{
    *out = NULL;
    amp_code code = authz_require(p, ACT_READ, RES_REPORT, err);
    if (code != AMP_OK)
        return code;
    static const struct {
        const char *name;
        const char *params[3];
    } figures[] = {
        {"cases_per_year", {"dims=year", NULL}},
        {"by_exploitation", {"dims=exploitation", NULL}},
        {"by_gender", {"dims=gender", NULL}},
        {"by_age_group", {"dims=age_group", NULL}},
        {"by_nationality", {"dims=citizenship", NULL}},
        {"routes", {"dims=origin_country,transit_country,country_of_exploitation", NULL}},
        {"referral_response_hours",
         {"entity=referrals", "dims=quarter", "measure=mean:response_hours"}},
    };
    json_t *tables = json_object();
    for (size_t i = 0; i < sizeof figures / sizeof *figures; i++) {
        list_param ps[4];
        char sbuf[4][256];
        size_t n = 0;
        for (int k = 0; k < 3 && figures[i].params[k]; k++) {
            const char *eq = strchr(figures[i].params[k], '=');
            snprintf(sbuf[n], 64, "%.*s", (int)(eq - figures[i].params[k]), figures[i].params[k]);
            snprintf(sbuf[n] + 64, 192, "%s", eq + 1);
            ps[n].name = sbuf[n];
            ps[n].value = sbuf[n] + 64;
            n++;
        }
        json_t *t = NULL;
        amp_err e = {0};
        if (report_crosstab(c, p, ps, n, &t, &e) == AMP_OK)
            json_object_set_new(tables, figures[i].name, t);
        else if (e.code == AMP_EINTERNAL) {
            code = amp_err_set(err, AMP_EINTERNAL, "%s", e.message);
            amp_err_clear(&e);
            json_decref(tables);
            return code;
        }
        amp_err_clear(&e);
    }
    json_object_set_new(tables, "shelter_occupancy",
                        occupancy(c, p, report_is_controlled(p, false)));
    *out = json_pack("{s:o, s:b}", "figures", tables, "controlled", report_is_controlled(p, false));
    return AMP_OK;
}
