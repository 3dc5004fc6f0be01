/* standard_reports.c — the report packs and the dashboard (see standard_reports.h). */
#include "core/standard_reports.h"
#include "core/audit.h"
#include "core/disclosure.h"
#include "core/indicators.h"
#include "core/report.h"
#include "core/shelters.h"
#include "util/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T4(en, es, fr, uk)                                                                         \
    {                                                                                              \
        en, es, fr, uk                                                                             \
    }

/* One table of a pack: its name, titles, and crosstab parameters
 * ("name=value" strings; "{from}"/"{to}" are replaced by the year's bounds).
 * A table with no parameters is computed here (see computed_table). */
typedef struct {
    const char *name;
    const char *title[4];
    const char *params[8];
} pack_table;

typedef struct {
    const char *name;
    const char *title[4];
    const char *description;
    const char *population; /* who the pack's case tables count: one definition per pack */
    pack_table tables[20];
} pack;

/* The action plan's victims: cases identified as actual or presumed victims. */
#define VICTIMS "trafficking_status=ActualVictimOfTrafficking,PossibleVictimOfTrafficking"

static const pack packs[] = {
    {"action-plan",
     T4("National action plan: protection figures", "Plan nacional de acción: cifras de protección",
        "Plan national d'action : chiffres de la protection",
        "Національний план дій: показники захисту"),
     "victims identified and assisted by year, sex, age, nationality and exploitation; assistance "
     "by type; referrals and response times; returns; shelter stays and occupancy; "
     "reintegration; trainings",
     "victims are cases identified as actual or presumed victims of trafficking (trafficking "
     "status ActualVictimOfTrafficking or PossibleVictimOfTrafficking): those registered in the "
     "year, and for 'victims assisted' those helped in the year (assistance, a shelter stay, a "
     "return or a monitoring visit) whenever they were registered. 'Identification decisions' "
     "counts every case registered in the year, whatever the decision. Record tables count "
     "records. Only cases whose consent allows statistics are counted, in every table.",
     {{"victims_by_year_sex",
       T4("Victims identified by year and sex", "Víctimas identificadas por año y sexo",
          "Victimes identifiées par année et sexe", "Виявлені постраждалі за роком і статтю"),
       {"dims=year,gender", VICTIMS, "from={from}", "to={to}"}},
      {"victims_by_age_sex",
       T4("Victims by age group and sex", "Víctimas por grupo de edad y sexo",
          "Victimes par tranche d'âge et sexe", "Постраждалі за віковою групою і статтю"),
       {"dims=age_group,gender", VICTIMS, "from={from}", "to={to}"}},
      {"victims_by_nationality",
       T4("Victims by nationality", "Víctimas por nacionalidad", "Victimes par nationalité",
          "Постраждалі за громадянством"),
       {"dims=citizenship", VICTIMS, "from={from}", "to={to}"}},
      {"victims_by_exploitation",
       T4("Victims by type of exploitation", "Víctimas por tipo de explotación",
          "Victimes par type d'exploitation", "Постраждалі за видом експлуатації"),
       {"dims=exploitation,majority", VICTIMS, "from={from}", "to={to}"}},
      {"victims_by_route",
       T4("Internal and cross-border trafficking", "Trata interna y transfronteriza",
          "Traite interne et transfrontalière", "Внутрішня та транскордонна торгівля"),
       {"dims=border,exploitation", VICTIMS, "from={from}", "to={to}"}},
      {"victims_assisted",
       T4("Victims assisted by sex and age", "Víctimas asistidas por sexo y edad",
          "Victimes assistées par sexe et âge",
          "Постраждалі, яким надано допомогу, за статтю і віком"),
       {"dims=gender,majority", VICTIMS, "assisted_from={from}", "assisted_to={to}"}},
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
      {"shelter_occupancy",
       T4("Shelter occupancy", "Ocupación de los albergues", "Occupation des foyers",
          "Заповненість притулків"),
       {NULL}},
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
     "victims assisted are the cases helped in the year (assistance, a shelter stay, a return or "
     "a monitoring visit), whatever their trafficking status or year of registration: the "
     "population of the indicator measure cases_assisted. The tables count only those whose "
     "consent allows statistics (population.excluded_without_statistics_consent says how many "
     "were left out); indicator actuals are the programme's own figures, as 'amparo indicator "
     "report' computes them. Costs are given per currency.",
     {{"victims_assisted",
       T4("Victims assisted by sex and age", "Víctimas asistidas por sexo y edad",
          "Victimes assistées par sexe et âge",
          "Постраждалі, яким надано допомогу, за статтю і віком"),
       {"dims=gender,majority", "assisted_from={from}", "assisted_to={to}"}},
      {"foreign_victims",
       T4("Victims assisted by nationality", "Víctimas asistidas por nacionalidad",
          "Victimes assistées par nationalité",
          "Постраждалі, яким надано допомогу, за громадянством"),
       {"dims=citizenship", "assisted_from={from}", "assisted_to={to}"}},
      {"assistance_by_type",
       T4("Assistance by type and cost", "Asistencia por tipo y costo",
          "Assistance par type et coût", "Допомога за видом і вартістю"),
       {"entity=assistance", "dims=type,currency", "measure=sum:cost", "from={from}", "to={to}"}},
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
     "every case registered in the year, whatever its trafficking status (identifications "
     "include cases found not to be victims), counted by quarter of registration; only cases "
     "whose consent allows statistics are counted. Record tables count records.",
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
        json_array_append_new(items,
                              json_pack("{s:s, s:o, s:s, s:s}", "name", packs[i].name, "title",
                                        title_json(packs[i].title), "description",
                                        packs[i].description, "population", packs[i].population));
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

/* The smallest figure a published pack shows (AMPARO_REPORT_THRESHOLD or 10),
 * as the crosstabs use it. */
static long publish_threshold(void)
{
    const char *s = getenv("AMPARO_REPORT_THRESHOLD");
    char *end = NULL;
    long v = s ? strtol(s, &end, 10) : 0;
    return s && *s && end && !*end && v >= 2 && v <= 1000 ? v : DC_DEFAULT_THRESHOLD;
}

/* A text of a label field: a string, or {"en","es","fr","uk"} texts (the
 * principal's language, else English, else any). */
static const char *label_text(const json_t *v, const char *lang)
{
    if (json_is_string(v))
        return json_string_value(v);
    char l[3] = "en";
    if (lang && strlen(lang) >= 2)
        snprintf(l, sizeof l, "%.2s", lang);
    const char *t = json_string_value(json_object_get(v, l));
    if (!t)
        t = json_string_value(json_object_get(v, "en"));
    const char *k;
    const json_t *x;
    json_object_foreach ((json_t *)v, k, x) {
        if (!t && json_is_string(x))
            t = json_string_value(x);
    }
    return t;
}

/* A column of a list table: its key in the items and its heading. */
static json_t *column(const char *key, const char *label)
{
    return json_pack("{s:s, s:s}", "key", key, "label", label);
}

/* Indicators against targets: every active indicator (created by `amparo
 * indicator create` or POST /api/v1/indicators: measure, targets
 * [{period, target}]) with its target for the year and its actual for the
 * year, computed as `amparo indicator report period=YYYY` computes it.  The
 * pack is published: an actual below the threshold is withheld. */
static json_t *indicators_table(core *c, const principal *p, const char *year)
{
    store_record_query q = {.kind = "indicator", .status = "Active"};
    store_record *rows = NULL;
    int n = 0;
    json_t *items = json_array();
    json_t *columns = json_pack("[o,o,o,o,o,o,o]", column("code", "Code"),
                                column("name", "Indicator"), column("measure", "Measure"),
                                column("target", "Target"), column("actual", "Actual"),
                                column("achieved_percent", "Achieved (%)"), column("met", "Met"));
    json_t *table = json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", "indicators", "title",
                              "Indicators against targets", "counts_what", "indicator actuals",
                              "columns", columns, "items", items);
    if (store_record_list(core_store(c), &q, &rows, &n, NULL) != STORE_OK) {
        json_object_set_new(table, "error", json_string("the indicators could not be read"));
        return table;
    }
    char from[16], to[16];
    snprintf(from, sizeof from, "%.4s-01-01", year);
    snprintf(to, sizeof to, "%.4s-12-31", year);
    long threshold = publish_threshold();
    json_int_t with_target = 0, met = 0;
    for (int i = 0; i < n; i++) {
        const json_t *d = rows[i].doc;
        const char *measure = json_string_value(json_object_get(d, "measure"));
        const json_t *target = NULL;
        size_t k;
        const json_t *t;
        json_array_foreach (json_object_get(d, "targets"), k, t) {
            const char *per = json_string_value(json_object_get(t, "period"));
            if (per && strcmp(per, year) == 0)
                target = json_object_get(t, "target");
        }
        const char *name = label_text(json_object_get(d, "name"), p->lang);
        const char *code = json_string_value(json_object_get(d, "code"));
        json_t *item = json_pack("{s:s, s:s, s:s, s:s, s:O}", "id", rows[i].uid, "code",
                                 code ? code : "", "name", name ? name : rows[i].uid, "measure",
                                 measure ? measure : "", "target", target ? target : json_null());
        double actual = 0;
        amp_err e = {0};
        if (indicators_measure(c, measure, d, from, to, &actual, &e) != AMP_OK) {
            json_object_set_new(item, "actual", json_null());
            json_object_set_new(item, "error", json_string(e.message));
        } else if (actual > 0 && actual < (double)threshold) {
            json_object_set_new(item, "actual", json_null());
            json_object_set_new(item, "suppressed", json_true());
        } else {
            json_object_set_new(item, "actual", json_real(actual));
            if (json_is_number(target) && json_number_value(target) > 0)
                json_object_set_new(
                    item, "achieved_percent",
                    json_real(round(actual / json_number_value(target) * 1000) / 10));
            if (json_is_number(target)) {
                json_object_set_new(item, "met", json_boolean(actual >= json_number_value(target)));
                met += actual >= json_number_value(target);
            }
        }
        with_target += json_is_number(target);
        amp_err_clear(&e);
        json_array_append_new(items, item);
    }
    for (int i = 0; i < n; i++)
        store_record_release(&rows[i]);
    free(rows);
    json_object_set_new(table, "period", json_string(year));
    json_object_set_new(table, "with_target", json_integer(with_target));
    json_object_set_new(table, "met", json_integer(met));
    json_object_set_new(table, "note",
                        json_string("actuals of the year as 'amparo indicator report' computes "
                                    "them; an actual below the publication threshold is withheld"));
    return table;
}

/* Shelter occupancy in the year, per shelter: the people staying at some time
 * in the year, the bed-nights they used, the bed-nights the shelter offered
 * and the share used.  Stays of cases whose consent does not allow statistics
 * are left out; a shelter with fewer stays than the threshold shows none of
 * its figures (a single resident's nights would be their length of stay). */
static json_t *occupancy_table(core *c, const char *year)
{
    char from[16], to[16], today[11];
    snprintf(from, sizeof from, "%.4s-01-01", year);
    snprintf(to, sizeof to, "%.4s-12-31", year);
    clock_today(today);
    json_t *items = json_array();
    json_t *columns = json_pack(
        "[o,o,o,o,o]", column("shelter", "Shelter"), column("stays", "People staying"),
        column("bed_nights", "Bed-nights used"), column("capacity_nights", "Bed-nights offered"),
        column("occupancy_percent", "Occupancy (%)"));
    json_t *table =
        json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", "shelter_occupancy", "title",
                  "Shelter occupancy", "counts_what", "stays", "columns", columns, "items", items);
    /* what each shelter offered in the year */
    principal in = {.actor = "reports", .lang = "en", .internal = true};
    list_param ps[2] = {{"from", from}, {"to", to}};
    json_t *stats = NULL;
    amp_err e = {0};
    store_record_query q = {.kind = "stay"};
    store_record *rows = NULL;
    int n = 0;
    if (shelters_stats(c, &in, ps, 2, &stats, &e) != AMP_OK ||
        store_record_list(core_store(c), &q, &rows, &n, NULL) != STORE_OK) {
        json_object_set_new(table, "error", json_string("the shelters could not be read"));
        json_decref(stats);
        amp_err_clear(&e);
        return table;
    }
    amp_err_clear(&e);
    json_t *by = json_object(); /* shelter id -> {stays, nights} */
    size_t no_consent = 0;
    for (int i = 0; i < n; i++) {
        const store_record *r = &rows[i];
        int nights = shelters_stay_nights(r->doc, from, to, today);
        if (nights <= 0)
            continue;
        if (!report_record_allows_statistics(c, r->case_uid)) {
            no_consent++;
            continue;
        }
        json_t *mine = json_object_get(by, r->org2);
        if (!mine) {
            mine = json_pack("{s:i, s:i}", "stays", 0, "nights", 0);
            json_object_set_new(by, r->org2, mine);
        }
        json_object_set_new(mine, "stays",
                            json_integer(json_integer_value(json_object_get(mine, "stays")) + 1));
        json_object_set_new(
            mine, "nights",
            json_integer(json_integer_value(json_object_get(mine, "nights")) + nights));
    }
    long threshold = publish_threshold();
    size_t i;
    const json_t *sh;
    json_array_foreach (json_object_get(stats, "by_shelter"), i, sh) {
        const char *id = json_string_value(json_object_get(sh, "shelter"));
        const char *name = json_string_value(json_object_get(sh, "name"));
        double offered = json_number_value(json_object_get(sh, "capacity_nights"));
        const json_t *mine = id ? json_object_get(by, id) : NULL;
        json_int_t stays = mine ? json_integer_value(json_object_get(mine, "stays")) : 0;
        json_int_t nights = mine ? json_integer_value(json_object_get(mine, "nights")) : 0;
        json_t *item = json_pack("{s:s, s:s, s:f}", "id", id ? id : "", "shelter",
                                 name && *name ? name : (id ? id : ""), "capacity_nights", offered);
        if (stays > 0 && stays < threshold) {
            json_object_set_new(item, "stays", json_null());
            json_object_set_new(item, "bed_nights", json_null());
            json_object_set_new(item, "occupancy_percent", json_null());
            json_object_set_new(item, "suppressed", json_true());
        } else {
            json_object_set_new(item, "stays", json_integer(stays));
            json_object_set_new(item, "bed_nights", json_integer(nights));
            json_object_set_new(item, "occupancy_percent",
                                offered > 0 ? json_real(round(nights / offered * 1000) / 10)
                                            : json_null());
        }
        json_array_append_new(items, item);
    }
    json_decref(by);
    json_decref(stats);
    for (int k = 0; k < n; k++)
        store_record_release(&rows[k]);
    free(rows);
    json_object_set_new(table, "population",
                        json_pack("{s:s, s:I}", "scope", "all",
                                  "excluded_without_statistics_consent", (json_int_t)no_consent));
    json_object_set_new(table, "note",
                        json_string("people staying at some time in the year; a shelter with "
                                    "fewer stays than the publication threshold is withheld"));
    return table;
}

/* A pack table without crosstab parameters, computed here. */
static json_t *computed_table(core *c, const pack_table *t, const char *year)
{
    if (strcmp(t->name, "shelter_occupancy") == 0)
        return occupancy_table(c, year);
    return json_pack("{s:s, s:s}", "name", t->name, "error", "no such computed table");
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
        if (!pk->tables[i].params[0]) {
            t = computed_table(c, &pk->tables[i], y);
            json_object_set_new(t, "title", json_string(pk->tables[i].title[lang_index(p->lang)]));
            json_object_set_new(t, "titles", title_json(pk->tables[i].title));
            json_array_append_new(tables, t);
        } else if (run_table(c, p, &pk->tables[i], y, &t, &e) == AMP_OK) {
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
    /* files carry the pack's definition of its population with the first table */
    if (json_array_size(tables))
        json_object_set_new(json_array_get(tables, 0), "pack_population",
                            json_string(pk->population));
    char now[32];
    clock_now(now);
    *out = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:o}", "name", pk->name, "title",
                     pk->title[lang_index(p->lang)], "titles", title_json(pk->title), "population",
                     pk->population, "year", y, "generated_at", now, "tables", tables);
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
            /* controlled figures leave out stays of cases without statistics consent */
            if (controlled && !report_record_allows_statistics(c, r->case_uid))
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
        }
        for (int i = 0; i < n; i++) /* every row, the skipped ones too */
            store_record_release(&rows[i]);
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
