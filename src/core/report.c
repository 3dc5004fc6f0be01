/* report.c — the report engine (see report.h).
 *
 * Sections: the entity tables; the cache registry; query parsing; the cube
 * accumulator; cases (from the column cache); records (from the store);
 * answers. */
#include "core/report.h"
#include "core/audit.h"
#include "core/care_common.h"
#include "core/disclosure.h"
#include "core/indicators.h"
#include "core/refcommon.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LBL(en, es, fr, uk)                                                                        \
    {                                                                                              \
        en, es, fr, uk                                                                             \
    }
#define MAX_DIMS DC_MAX_DIMS
#define MAX_FILTERS 16
#define MAX_CATS_PER_ROW 64
#define NONE_CODE "_none"

static const char *const langs[4] = {"en", "es", "fr", "uk"};

static json_t *label_json(const char *const l[4])
{
    json_t *o = json_object();
    for (int i = 0; i < 4; i++)
        json_object_set_new(o, langs[i], json_string(l[i] ? l[i] : l[0]));
    return o;
}

/* ==== entity tables ============================================================= */

typedef enum {
    DK_COL,        /* a column of the cache */
    DK_QUARTER,    /* from CC_MONTH */
    DK_AGE,        /* age group (CTDC ageBroad bins) */
    DK_MAJORITY,   /* Minor / Adult */
    DK_ORG_REGION, /* amp_OrgRegion of the owning organisation */
} case_dim_kind;

typedef struct {
    const char *name;
    case_dim_kind kind;
    cc_col col;
    int age_src; /* DK_AGE, DK_MAJORITY: 0 at registration, 1 when trafficked */
    const char *label[4];
} case_dim;

static const case_dim case_dims[] = {
    {"year", DK_COL, CC_YEAR, 0,
     LBL("Year of registration", "Año de registro", "Année d'enregistrement", "Рік реєстрації")},
    {"quarter", DK_QUARTER, CC_MONTH, 0,
     LBL("Quarter of registration", "Trimestre de registro", "Trimestre d'enregistrement",
         "Квартал реєстрації")},
    {"month", DK_COL, CC_MONTH, 0,
     LBL("Month of registration", "Mes de registro", "Mois d'enregistrement", "Місяць реєстрації")},
    {"gender", DK_COL, CC_GENDER, 0, LBL("Gender", "Género", "Genre", "Стать")},
    {"age_group", DK_AGE, CC_YEAR, 0,
     LBL("Age group at identification", "Grupo de edad al identificar",
         "Tranche d'âge à l'identification", "Вікова група на момент виявлення")},
    {"age_group_exploitation", DK_AGE, CC_YEAR, 1,
     LBL("Age group when trafficked", "Grupo de edad al ser víctima de trata",
         "Tranche d'âge lors de la traite", "Вікова група на момент торгівлі")},
    {"majority", DK_MAJORITY, CC_YEAR, 0,
     LBL("Minor or adult at identification", "Menor o adulto al identificar",
         "Mineur ou majeur à l'identification", "Неповнолітній чи дорослий на момент виявлення")},
    {"majority_exploitation", DK_MAJORITY, CC_YEAR, 1,
     LBL("Minor or adult when trafficked", "Menor o adulto al ser víctima",
         "Mineur ou majeur lors de la traite", "Неповнолітній чи дорослий на момент торгівлі")},
    {"citizenship", DK_COL, CC_CITIZENSHIP, 0,
     LBL("Citizenship", "Nacionalidad", "Nationalité", "Громадянство")},
    {"country_of_exploitation", DK_COL, CC_COUNTRY_EXPL, 0,
     LBL("Country of exploitation", "País de explotación", "Pays d'exploitation",
         "Країна експлуатації")},
    {"origin_country", DK_COL, CC_ORIGIN, 0,
     LBL("Country of recruitment", "País de captación", "Pays de recrutement",
         "Країна вербування")},
    {"transit_country", DK_COL, CC_TRANSIT, 0,
     LBL("Country of transit", "País de tránsito", "Pays de transit", "Країна транзиту")},
    {"border", DK_COL, CC_BORDER, 0,
     LBL("Internal or cross-border", "Interna o transfronteriza", "Interne ou transfrontalière",
         "Внутрішня чи транскордонна")},
    {"exploitation", DK_COL, CC_EXPLOITATION, 0,
     LBL("Type of exploitation", "Tipo de explotación", "Type d'exploitation", "Вид експлуатації")},
    {"means_of_control", DK_COL, CC_CONTROL, 0,
     LBL("Means of control", "Medios de control", "Moyens de contrôle", "Методи контролю")},
    {"industry", DK_COL, CC_INDUSTRY, 0,
     LBL("Forced labour industry", "Sector del trabajo forzoso", "Secteur du travail forcé",
         "Галузь примусової праці")},
    {"sexual_exploitation_type", DK_COL, CC_SEXTYPE, 0,
     LBL("Type of sexual exploitation", "Tipo de explotación sexual",
         "Type d'exploitation sexuelle", "Вид сексуальної експлуатації")},
    {"recruitment_method", DK_COL, CC_RECRUITMENT, 0,
     LBL("Method of recruitment", "Método de captación", "Méthode de recrutement",
         "Спосіб вербування")},
    {"relation_to_recruiter", DK_COL, CC_RELATION, 0,
     LBL("Relation to recruiter", "Relación con el tratante", "Relation avec le trafiquant",
         "Стосунок до торговця")},
    {"trafficking_status", DK_COL, CC_TSTATUS, 0,
     LBL("Trafficking status", "Condición de víctima", "Statut de victime",
         "Статус постраждалої особи")},
    {"decision_org", DK_COL, CC_DECISION_ORG, 0,
     LBL("Status decided by", "Condición decidida por", "Statut décidé par", "Статус визначено")},
    {"case_status", DK_COL, CC_CASE_STATUS, 0,
     LBL("Case status", "Estado del caso", "Statut du dossier", "Стан справи")},
    {"organisation", DK_COL, CC_ORG, 0,
     LBL("Organisation", "Organización", "Organisation", "Організація")},
    {"province", DK_COL, CC_REGION_EXPL, 0,
     LBL("Province/region of exploitation", "Provincia/región de explotación",
         "Province/région d'exploitation", "Область/регіон експлуатації")},
    {"org_region", DK_ORG_REGION, CC_ORG, 0,
     LBL("Region of the organisation", "Región de la organización", "Région de l'organisation",
         "Регіон організації")},
    {"registration_country", DK_COL, CC_REG_COUNTRY, 0,
     LBL("Country of registration", "País de registro", "Pays d'enregistrement",
         "Країна реєстрації")},
};
#define NCASE_DIMS (sizeof case_dims / sizeof *case_dims)

/* The CTDC ageBroad bins. */
static const struct {
    int lo, hi;
    const char *code;
} age_bins[] = {{0, 8, "0--8"},     {9, 17, "9--17"},   {18, 20, "18--20"},
                {21, 23, "21--23"}, {24, 26, "24--26"}, {27, 29, "27--29"},
                {30, 38, "30--38"}, {39, 47, "39--47"}, {48, 200, "48+"}};
#define NAGE_BINS 9

/* Record entities: each dimension reads a JSON field of the record's document
 * (or one of its indexed columns); dates give year, quarter or month. */
typedef enum { RS_DOC, RS_STATUS, RS_ORG, RS_ORG2, RS_CREATED } rec_source;
typedef enum { DP_VALUE, DP_YEAR, DP_QUARTER, DP_MONTH } date_part;

typedef struct {
    const char *name;
    rec_source src;
    const char *field; /* RS_DOC: the document's field */
    date_part part;
    const char *label[4];
} rec_dim;

typedef enum { RM_FIELD, RM_DAYS, RM_HOURS } rec_measure_kind;

typedef struct {
    const char *name;
    rec_measure_kind kind;
    const char *a, *b; /* RM_FIELD: a; RM_DAYS/RM_HOURS: from a to b ("created_at": the record's) */
    const char *label[4];
    /* amounts of money: the dimension naming their currency, so that sums and
     * means never add up different currencies (see split_by_unit) */
    const char *unit_dim;
} rec_measure;

#define MAX_REC_DIMS 12
#define MAX_REC_MEASURES 4

typedef struct {
    const char *name; /* entity name in the API */
    const char *kind; /* store record kind */
    const char *date_field;
    const char *label[4];
    rec_dim dims[MAX_REC_DIMS];
    rec_measure measures[MAX_REC_MEASURES];
} rec_entity;

#define D_YEAR(f)                                                                                  \
    {                                                                                              \
        "year", RS_DOC, f, DP_YEAR, LBL("Year", "Año", "Année", "Рік")                             \
    }
#define D_QUARTER(f)                                                                               \
    {                                                                                              \
        "quarter", RS_DOC, f, DP_QUARTER, LBL("Quarter", "Trimestre", "Trimestre", "Квартал")      \
    }
#define D_MONTH(f)                                                                                 \
    {                                                                                              \
        "month", RS_DOC, f, DP_MONTH, LBL("Month", "Mes", "Mois", "Місяць")                        \
    }
#define D_CYEAR                                                                                    \
    {                                                                                              \
        "year", RS_CREATED, "", DP_YEAR, LBL("Year", "Año", "Année", "Рік")                        \
    }
#define D_CQUARTER                                                                                 \
    {                                                                                              \
        "quarter", RS_CREATED, "", DP_QUARTER, LBL("Quarter", "Trimestre", "Trimestre", "Квартал") \
    }
#define D_CMONTH                                                                                   \
    {                                                                                              \
        "month", RS_CREATED, "", DP_MONTH, LBL("Month", "Mes", "Mois", "Місяць")                   \
    }
#define D_STATUS                                                                                   \
    {                                                                                              \
        "status", RS_STATUS, "", DP_VALUE, LBL("Status", "Estado", "Statut", "Стан")               \
    }
#define D_ORG                                                                                      \
    {                                                                                              \
        "organisation", RS_ORG, "", DP_VALUE,                                                      \
            LBL("Organisation", "Organización", "Organisation", "Організація")                     \
    }

static const rec_entity rec_entities[] = {
    {"assistance",
     "assistance",
     "start_date",
     LBL("Assistance given", "Asistencia prestada", "Assistance fournie", "Надана допомога"),
     {D_YEAR("start_date"),
      D_QUARTER("start_date"),
      D_MONTH("start_date"),
      {"type", RS_DOC, "type", DP_VALUE,
       LBL("Type of assistance", "Tipo de asistencia", "Type d'assistance", "Вид допомоги")},
      {"provider", RS_DOC, "provider_org", DP_VALUE,
       LBL("Provider", "Proveedor", "Prestataire", "Надавач")},
      {"outcome", RS_DOC, "outcome", DP_VALUE,
       LBL("Outcome", "Resultado", "Résultat", "Результат")},
      {"currency", RS_DOC, "currency", DP_VALUE, LBL("Currency", "Moneda", "Devise", "Валюта")},
      D_ORG,
      D_STATUS},
     {{"cost", RM_FIELD, "cost", NULL, LBL("Cost", "Costo", "Coût", "Вартість"), "currency"},
      {"duration_days", RM_DAYS, "start_date", "end_date",
       LBL("Duration (days)", "Duración (días)", "Durée (jours)", "Тривалість (днів)")}}},
    {"referrals",
     "referral",
     "created_at",
     LBL("Referrals", "Derivaciones", "Orientations", "Перенаправлення"),
     {D_CYEAR,
      D_CQUARTER,
      D_CMONTH,
      D_STATUS,
      {"from_org", RS_ORG, "", DP_VALUE,
       LBL("Referring organisation", "Organización que deriva", "Organisation qui oriente",
           "Організація, що перенаправляє")},
      {"to_org", RS_ORG2, "", DP_VALUE,
       LBL("Receiving organisation", "Organización receptora", "Organisation destinataire",
           "Організація-отримувач")},
      {"urgency", RS_DOC, "urgency", DP_VALUE,
       LBL("Urgency", "Urgencia", "Urgence", "Терміновість")},
      {"service", RS_DOC, "services", DP_VALUE,
       LBL("Service requested", "Servicio solicitado", "Service demandé", "Запитана послуга")}},
     {{"response_hours", RM_HOURS, "sent_at", "answered_at",
       LBL("Response time (hours)", "Tiempo de respuesta (horas)", "Délai de réponse (heures)",
           "Час відповіді (годин)")}}},
    {"stays",
     "stay",
     "admitted_on",
     LBL("Shelter stays", "Estancias en albergue", "Séjours en foyer", "Перебування у притулку"),
     {D_YEAR("admitted_on"),
      D_QUARTER("admitted_on"),
      D_MONTH("admitted_on"),
      D_STATUS,
      {"shelter", RS_DOC, "shelter", DP_VALUE, LBL("Shelter", "Albergue", "Foyer", "Притулок")},
      {"discharge_reason", RS_DOC, "discharge_reason", DP_VALUE,
       LBL("Reason for discharge", "Motivo de salida", "Motif de sortie", "Причина вибуття")},
      D_ORG},
     {{"length_of_stay_days", RM_DAYS, "admitted_on", "discharged_on",
       LBL("Length of stay (days)", "Duración de la estancia (días)", "Durée du séjour (jours)",
           "Тривалість перебування (днів)")}}},
    {"visits",
     "visit",
     "date",
     LBL("Reintegration visits", "Visitas de reintegración", "Visites de réintégration",
         "Моніторингові візити"),
     {D_YEAR("date"),
      D_QUARTER("date"),
      {"outcome", RS_DOC, "sustainable", DP_VALUE,
       LBL("Sustainable reintegration", "Reintegración sostenible", "Réintégration durable",
           "Стала реінтеграція")},
      {"type", RS_DOC, "type", DP_VALUE,
       LBL("Type of visit", "Tipo de visita", "Type de visite", "Вид візиту")},
      {"framework", RS_DOC, "framework", DP_VALUE, LBL("Framework", "Marco", "Cadre", "Рамка")},
      D_ORG},
     {{"score", RM_FIELD, "composite", NULL,
       LBL("Reintegration score", "Puntuación de reintegración", "Score de réintégration",
           "Оцінка реінтеграції")}}},
    {"hotline_contacts",
     "hotline_contact",
     "created_at",
     LBL("Hotline contacts", "Contactos de la línea", "Appels à la ligne",
         "Звернення на гарячу лінію"),
     {D_CYEAR,
      D_CQUARTER,
      D_CMONTH,
      D_STATUS,
      {"channel", RS_DOC, "channel", DP_VALUE, LBL("Channel", "Canal", "Canal", "Канал")},
      {"caller_type", RS_DOC, "caller_type", DP_VALUE,
       LBL("Caller type", "Tipo de persona que llama", "Type d'appelant", "Тип абонента")},
      {"outcome", RS_DOC, "outcome", DP_VALUE,
       LBL("Outcome", "Resultado", "Résultat", "Результат")},
      D_ORG},
     {{NULL, RM_FIELD, NULL, NULL, {NULL, NULL, NULL, NULL}}}},
    {"trainings",
     "training",
     "start_date",
     LBL("Trainings and events", "Capacitaciones y eventos", "Formations et événements",
         "Навчання та заходи"),
     {D_YEAR("start_date"),
      D_QUARTER("start_date"),
      {"audience", RS_DOC, "audiences", DP_VALUE,
       LBL("Audience", "Público", "Public", "Аудиторія")},
      {"topic", RS_DOC, "topics", DP_VALUE, LBL("Topic", "Tema", "Thème", "Тема")},
      {"type", RS_DOC, "type", DP_VALUE, LBL("Type", "Tipo", "Type", "Тип")},
      D_ORG},
     {{"participants", RM_FIELD, "participants", NULL,
       LBL("Participants", "Participantes", "Participants", "Учасники")}}},
    {"returns",
     "return",
     "departure_date",
     LBL("Returns and reunifications", "Retornos y reunificaciones", "Retours et réunifications",
         "Повернення та возз'єднання"),
     {D_YEAR("departure_date"),
      D_QUARTER("departure_date"),
      {"type", RS_DOC, "type", DP_VALUE, LBL("Type", "Tipo", "Type", "Тип")},
      {"destination_country", RS_DOC, "destination_country", DP_VALUE,
       LBL("Destination country", "País de destino", "Pays de destination", "Країна призначення")},
      D_STATUS,
      D_ORG},
     {{NULL, RM_FIELD, NULL, NULL, {NULL, NULL, NULL, NULL}}}},
    {"proceedings",
     "proceeding",
     "created_at",
     LBL("Criminal proceedings", "Procesos penales", "Procédures pénales",
         "Кримінальні провадження"),
     {D_CYEAR,
      D_STATUS,
      {"stage", RS_DOC, "stage", DP_VALUE, LBL("Stage", "Etapa", "Étape", "Стадія")},
      D_ORG},
     {{NULL, RM_FIELD, NULL, NULL, {NULL, NULL, NULL, NULL}}}},
};
#define NREC_ENTITIES (sizeof rec_entities / sizeof *rec_entities)

static const rec_entity *rec_entity_find(const char *name)
{
    for (size_t i = 0; i < NREC_ENTITIES; i++) {
        if (strcmp(rec_entities[i].name, name) == 0 || strcmp(rec_entities[i].kind, name) == 0)
            return &rec_entities[i];
    }
    return NULL;
}

static const case_dim *case_dim_find(const char *name)
{
    for (size_t i = 0; i < NCASE_DIMS; i++) {
        if (strcmp(case_dims[i].name, name) == 0)
            return &case_dims[i];
    }
    return NULL;
}

static const rec_dim *rec_dim_find(const rec_entity *e, const char *name)
{
    for (int i = 0; i < MAX_REC_DIMS && e->dims[i].name; i++) {
        if (strcmp(e->dims[i].name, name) == 0)
            return &e->dims[i];
    }
    return NULL;
}

/* A dimension of the case a record belongs to (gender, age group, citizenship,
 * exploitation…), for a record entity that has no dimension of that name: the
 * records by a characteristic of their case.  Dates and the organisation stay
 * the record's own. */
static const case_dim *record_case_dim(const rec_entity *e, const char *name)
{
    const case_dim *d = rec_dim_find(e, name) ? NULL : case_dim_find(name);
    if (!d)
        return NULL;
    if (d->kind == DK_AGE || d->kind == DK_MAJORITY)
        return d;
    return d->kind == DK_COL && d->col != CC_YEAR && d->col != CC_MONTH && d->col != CC_ORG ? d
                                                                                            : NULL;
}

static const rec_measure *rec_measure_find(const rec_entity *e, const char *name)
{
    for (int i = 0; i < MAX_REC_MEASURES && e->measures[i].name; i++) {
        if (strcmp(e->measures[i].name, name) == 0)
            return &e->measures[i];
    }
    return NULL;
}

static bool case_dim_multi(const case_dim *d)
{
    return d->kind == DK_COL && colcache_kind(d->col) != CCK_SINGLE;
}

/* ==== the cache registry ========================================================== */

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    core *c;
    store *s;
    colcache *cc;
} registry[16];

colcache *reports_cache(core *c)
{
    pthread_mutex_lock(&registry_mu);
    colcache *found = NULL;
    int free_slot = -1;
    for (int i = 0; i < 16; i++) {
        if (registry[i].c == c && registry[i].s == core_store(c)) {
            found = registry[i].cc;
            break;
        }
        if (!registry[i].c && free_slot < 0)
            free_slot = i;
    }
    if (!found && free_slot >= 0) {
        found = colcache_new(core_store(c), core_catalogue(c));
        if (found) {
            registry[free_slot].c = c;
            registry[free_slot].s = core_store(c);
            registry[free_slot].cc = found;
        }
    }
    pthread_mutex_unlock(&registry_mu);
    return found;
}

void reports_forget(core *c)
{
    pthread_mutex_lock(&registry_mu);
    for (int i = 0; i < 16; i++) {
        if (registry[i].c == c) {
            colcache_free(registry[i].cc);
            memset(&registry[i], 0, sizeof registry[i]);
        }
    }
    pthread_mutex_unlock(&registry_mu);
}

/* A dimension of a query: its categories (codes) and what labels them. */
typedef struct {
    const char *name;
    bool multi;
    const char *field; /* for labels */
    size_t ncat;
    char **codes; /* ncat codes (borrowed or owned, see owned) */
    bool owned;
    uint64_t *allow;      /* filter bitmap over categories, or NULL */
    bool closed;          /* the categories are every valid code (picklists): others are errors */
    bool country;         /* codes are ISO 3166-1 alpha-2 countries */
    const char *list;     /* record entities: the picklist of the codes (labels), or NULL */
    bool org;             /* codes are organisation ids (labels: their names) */
    const char *rec_kind; /* codes are ids of records of this kind (labels: their "name") */
    const char *const *label; /* the dimension's label in the four languages */
} qdim;

/* ==== labels ========================================================================== */

/* The label object of a picklist value or country code (borrowed), or NULL. */
static const json_t *value_label(const catalogue *cat, const char *field, const char *code)
{
    const json_t *root = catalogue_json(cat);
    size_t i;
    const json_t *f;
    if (field && field[0]) {
        json_array_foreach (json_object_get(root, "fields"), i, f) {
            if (strcmp(json_string_value(json_object_get(f, "name")), field) != 0)
                continue;
            size_t k;
            const json_t *v;
            json_array_foreach (json_object_get(f, "values"), k, v) {
                if (strcmp(json_string_value(json_object_get(v, "name")), code) == 0)
                    return json_object_get(v, "label");
            }
            break;
        }
    }
    if (strlen(code) == 2) {
        json_array_foreach (json_object_get(json_object_get(root, "codelists"), "country"), i, f) {
            if (strcmp(json_string_value(json_object_get(f, "code")), code) == 0)
                return json_object_get(f, "label");
        }
    }
    return NULL;
}

/* The picklist of a record entity's dimension (schema/referrals.json or
 * schema/care-picklists.json), for the labels of its codes; NULL when its codes
 * are dates, organisations, countries or record ids. */
static const char *rec_dim_list(const char *entity, const char *dim)
{
    static const struct {
        const char *entity, *dim, *list;
    } lists[] = {
        {"assistance", "type", "services"},
        {"assistance", "outcome", "assistance_outcomes"},
        {"assistance", "status", "assistance_statuses"},
        {"referrals", "status", "referral_statuses"},
        {"referrals", "urgency", "urgency"},
        {"referrals", "service", "services"},
        {"stays", "status", "stay_statuses"},
        {"stays", "discharge_reason", "discharge_reasons"},
        {"visits", "type", "visit_types"},
        {"visits", "framework", "frameworks"},
        {"hotline_contacts", "status", "hotline_outcomes"}, /* a contact's status is its outcome */
        {"hotline_contacts", "channel", "hotline_channels"},
        {"hotline_contacts", "caller_type", "caller_types"},
        {"hotline_contacts", "outcome", "hotline_outcomes"},
        {"trainings", "audience", "audiences"},
        {"trainings", "topic", "topics"},
        {"trainings", "type", "event_types"},
        {"returns", "type", "return_types"},
        {"returns", "status", "return_statuses"},
        {"proceedings", "stage", "proceeding_stages"},
    };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        if (strcmp(lists[i].entity, entity) == 0 && strcmp(lists[i].dim, dim) == 0)
            return lists[i].list;
    return NULL;
}

/* The label object of a code of a referral or care picklist (borrowed), or NULL. */
static const json_t *list_label(const char *list, const char *code)
{
    size_t i;
    const json_t *v;
    json_array_foreach (rc_picklist(list), i, v) {
        if (strcmp(json_string_value(json_object_get(v, "name")), code) == 0)
            return json_object_get(v, "label");
    }
    v = care_picklist_value(list, code);
    return v ? json_object_get(v, "label") : NULL;
}

static json_t *same_in_every_language(const char *text)
{
    json_t *o = json_object();
    for (int i = 0; i < 4; i++)
        json_object_set_new(o, langs[i], json_string(text));
    return o;
}

/* The labels {en, es, fr, uk} of category `code` of dimension d (a new object):
 * fixed categories, the picklist's labels, an organisation's name, a country's
 * name, else the code itself. */
static json_t *category_label(core *c, const qdim *d, const char *code)
{
    static const char *const none[4] = {"Not recorded", "No registrado", "Non renseigné",
                                        "Не зазначено"};
    static const struct {
        const char *code, *label[4];
    } fixed[] = {
        {"Internal", {"Internal", "Interna", "Interne", "Внутрішня"}},
        {"CrossBorder", {"Cross-border", "Transfronteriza", "Transfrontalière", "Транскордонна"}},
        {"Minor", {"Minor", "Menor", "Mineur", "Неповнолітній"}},
        {"Adult", {"Adult", "Adulto", "Majeur", "Дорослий"}},
    };
    /* visits: "outcome" is the visit's "sustainable" flag; proceedings: open or closed */
    static const struct {
        const char *dim, *code, *label[4];
    } by_dim[] = {
        {"outcome", "true", {"Sustainable", "Sostenible", "Durable", "Стале"}},
        {"outcome",
         "false",
         {"Not sustainable yet", "Aún no sostenible", "Pas encore durable", "Ще не стале"}},
        {"status", "Open", {"Open", "Abierto", "Ouvert", "Відкрито"}},
        {"status", "Closed", {"Closed", "Cerrado", "Clos", "Закрито"}},
    };
    if (strcmp(code, NONE_CODE) == 0)
        return label_json(none);
    if (!d->list) {
        for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
            if (strcmp(code, fixed[i].code) == 0)
                return label_json(fixed[i].label);
        for (size_t i = 0; i < sizeof by_dim / sizeof *by_dim; i++)
            if (strcmp(d->name, by_dim[i].dim) == 0 && strcmp(code, by_dim[i].code) == 0)
                return label_json(by_dim[i].label);
    }
    const json_t *l =
        d->list ? list_label(d->list, code) : value_label(core_catalogue(c), d->field, code);
    if (l)
        return json_deep_copy(l);
    if (d->org) {
        char *name = rc_org_name(c, code);
        if (name) {
            json_t *o = same_in_every_language(name);
            free(name);
            return o;
        }
    }
    if (d->rec_kind) { /* a shelter's id: its name */
        store_record r;
        if (store_record_get(core_store(c), d->rec_kind, code, &r) == STORE_OK) {
            const char *name = json_string_value(json_object_get(r.doc, "name"));
            json_t *o = name && *name ? same_in_every_language(name) : NULL;
            store_record_release(&r);
            if (o)
                return o;
        }
    }
    return same_in_every_language(code);
}

json_t *reports_dimensions(core *c)
{
    (void)c;
    json_t *ents = json_array();
    json_t *dims = json_array();
    for (size_t i = 0; i < NCASE_DIMS; i++)
        json_array_append_new(dims, json_pack("{s:s, s:o, s:b, s:s}", "name", case_dims[i].name,
                                              "label", label_json(case_dims[i].label), "multi",
                                              case_dim_multi(&case_dims[i]), "field",
                                              colcache_field(case_dims[i].col)));
    static const char *const cases_label[4] = {"Cases", "Casos", "Dossiers", "Справи"};
    json_array_append_new(ents, json_pack("{s:s, s:o, s:o, s:[s,s], s:[s,s]}", "name", "cases",
                                          "label", label_json(cases_label), "dimensions", dims,
                                          "measures", "age_registration", "age_exploitation",
                                          "filters", "from", "to"));
    for (size_t e = 0; e < NREC_ENTITIES; e++) {
        const rec_entity *re = &rec_entities[e];
        json_t *d = json_array(), *m = json_array();
        for (int i = 0; i < MAX_REC_DIMS && re->dims[i].name; i++)
            json_array_append_new(d, json_pack("{s:s, s:o, s:b, s:s}", "name", re->dims[i].name,
                                               "label", label_json(re->dims[i].label), "multi", 0,
                                               "field",
                                               re->dims[i].src == RS_DOC      ? re->dims[i].field
                                               : re->dims[i].src == RS_STATUS ? "status"
                                               : re->dims[i].src == RS_ORG    ? "org"
                                               : re->dims[i].src == RS_ORG2   ? "org2"
                                                                              : "created_at"));
        /* and those of the record's case (of_case: the case's gender, age…) */
        for (size_t i = 0; i < NCASE_DIMS; i++) {
            if (!record_case_dim(re, case_dims[i].name))
                continue;
            json_array_append_new(
                d, json_pack("{s:s, s:o, s:b, s:s, s:b}", "name", case_dims[i].name, "label",
                             label_json(case_dims[i].label), "multi", case_dim_multi(&case_dims[i]),
                             "field", colcache_field(case_dims[i].col), "of_case", 1));
        }
        for (int i = 0; i < MAX_REC_MEASURES && re->measures[i].name; i++)
            json_array_append_new(m, json_pack("{s:s, s:o}", "name", re->measures[i].name, "label",
                                               label_json(re->measures[i].label)));
        json_array_append_new(ents,
                              json_pack("{s:s, s:s, s:o, s:o, s:o, s:[s,s]}", "name", re->name,
                                        "record_kind", re->kind, "label", label_json(re->label),
                                        "dimensions", d, "measures", m, "filters", "from", "to"));
    }
    return json_pack("{s:o, s:i, s:i}", "entities", ents, "max_dimensions", MAX_DIMS,
                     "default_threshold", DC_DEFAULT_THRESHOLD);
}

/* ==== query parameters ================================================================ */

typedef struct {
    const char *name;
    char *values; /* owned copy, comma-separated */
} filter_spec;

typedef struct {
    const char *entity;
    const char *dims[MAX_DIMS];
    int ndims;
    char dims_buf[256];
    filter_spec filters[MAX_FILTERS];
    int nfilters;
    const char *from, *to;
    const char *assisted_from, *assisted_to; /* cases: only those helped in this range */
    bool mentions;
    const char *scope; /* the scope= parameter, or NULL */
    bool scoped;       /* figures of the caller's organisation only */
    bool internal;     /* asked by the CLI (every organisation) */
    enum { MS_COUNT, MS_SUM, MS_MEAN } measure_kind;
    const char *measure;
    char measure_buf[64];
    bool publish;
    disclosure_opts dc;
    bool threshold_given;
    const char *dataset;
    double budget;
} query;

static void query_release(query *q)
{
    for (int i = 0; i < q->nfilters; i++)
        free(q->filters[i].values);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s)
        return false;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool is_date(const char *s)
{
    int y, m, d;
    return s && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d", &y, &m, &d) == 3 && m >= 1 && m <= 12 &&
           d >= 1 && d <= 31 && s[4] == '-' && s[7] == '-';
}

static amp_code bad(amp_err *err, const char *field, const char *rule, const char *fmt,
                    const char *arg);
static amp_code bad(amp_err *err, const char *field, const char *rule, const char *fmt,
                    const char *arg)
{
    char msg[200];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(msg, sizeof msg, fmt, arg ? arg : ""); /* fmt: literals of this file */
#pragma GCC diagnostic pop
    amp_err_field(err, field, rule, msg);
    return amp_err_set(err, AMP_EINVALID, "%s", msg);
}

/* The minimum threshold a controlled release may use: AMPARO_REPORT_THRESHOLD or 10. */
static int min_threshold(void)
{
    const char *s = getenv("AMPARO_REPORT_THRESHOLD");
    long v;
    return s && parse_long(s, 2, 1000, &v) ? (int)v : DC_DEFAULT_THRESHOLD;
}

bool report_is_controlled(const principal *p, bool publish)
{
    return publish || (!p->internal && !authz_has_case_access(p));
}

static bool known_dim(const char *entity_name, const char *name)
{
    if (strcmp(entity_name, "cases") == 0)
        return case_dim_find(name) != NULL;
    const rec_entity *e = rec_entity_find(entity_name);
    return e && (rec_dim_find(e, name) || record_case_dim(e, name));
}

static amp_code parse_query_params(const principal *p, const list_param *ps, size_t n, query *q,
                                   amp_err *err)
{
    memset(q, 0, sizeof *q);
    q->entity = "cases";
    q->dc.threshold = -1;
    q->dataset = NULL;
    const char *dims = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ps[i].name, "entity") == 0) {
            q->entity = ps[i].value;
        }
    }
    if (strcmp(q->entity, "cases") != 0 && !rec_entity_find(q->entity))
        return bad(err, "entity", "enum", "unknown entity '%s' (see /api/v1/reports/dimensions)",
                   q->entity);
    for (size_t i = 0; i < n; i++) {
        const char *k = ps[i].name, *v = ps[i].value ? ps[i].value : "";
        long num;
        if (strcmp(k, "entity") == 0 || strcmp(k, "format") == 0 || strcmp(k, "lang") == 0) {
            continue;
        } else if (strcmp(k, "dims") == 0) {
            dims = v;
        } else if (strcmp(k, "from") == 0 || strcmp(k, "to") == 0) {
            if (!is_date(v))
                return bad(err, k, "date", "%s must be a date YYYY-MM-DD", k);
            *(k[0] == 'f' ? &q->from : &q->to) = v;
        } else if (strcmp(k, "scope") == 0) {
            if (strcmp(v, "organisation") != 0 && strcmp(v, "all") != 0)
                return bad(err, "scope", "enum", "scope must be organisation or all%s", NULL);
            q->scope = v;
        } else if (strcmp(k, "assisted_from") == 0 || strcmp(k, "assisted_to") == 0) {
            if (strcmp(q->entity, "cases") != 0)
                return bad(err, k, "cases_only", "%s applies to the cases entity only", k);
            if (!is_date(v))
                return bad(err, k, "date", "%s must be a date YYYY-MM-DD", k);
            *(k[9] == 'f' ? &q->assisted_from : &q->assisted_to) = v;
        } else if (strcmp(k, "count") == 0) {
            if (strcmp(v, "mentions") == 0)
                q->mentions = true;
            else if (strcmp(v, "cases") != 0)
                return bad(err, "count", "enum", "count must be cases or mentions%s", NULL);
        } else if (strcmp(k, "measure") == 0) {
            snprintf(q->measure_buf, sizeof q->measure_buf, "%s", v);
            char *colon = strchr(q->measure_buf, ':');
            if (strcmp(v, "count") == 0) {
                q->measure_kind = MS_COUNT;
            } else if (colon && (strncmp(v, "sum:", 4) == 0 || strncmp(v, "mean:", 5) == 0)) {
                q->measure_kind = v[1] == 'u' ? MS_SUM : MS_MEAN;
                q->measure = colon + 1;
            } else {
                return bad(err, "measure", "enum", "measure must be count, sum:<m> or mean:<m>%s",
                           NULL);
            }
        } else if (strcmp(k, "threshold") == 0) {
            if (!parse_long(v, 0, 1000, &num))
                return bad(err, "threshold", "range", "threshold must be 0 to 1000%s", NULL);
            q->dc.threshold = (int)num;
            q->threshold_given = true;
        } else if (strcmp(k, "rounding") == 0) {
            if (!parse_long(v, 0, 1000, &num))
                return bad(err, "rounding", "range", "rounding must be 0 to 1000%s", NULL);
            q->dc.rounding = (int)num;
        } else if (strcmp(k, "epsilon") == 0) {
            char *end;
            double e = strtod(v, &end);
            if (!*v || *end || !(e > 0) || e > 100)
                return bad(err, "epsilon", "range", "epsilon must be a number in (0, 100]%s", NULL);
            q->dc.epsilon = e;
            if (q->dc.mechanism == DP_NONE)
                q->dc.mechanism = DP_LAPLACE;
        } else if (strcmp(k, "mechanism") == 0) {
            if (strcmp(v, "laplace") == 0)
                q->dc.mechanism = DP_LAPLACE;
            else if (strcmp(v, "geometric") == 0)
                q->dc.mechanism = DP_GEOMETRIC;
            else
                return bad(err, "mechanism", "enum", "mechanism must be laplace or geometric%s",
                           NULL);
        } else if (strcmp(k, "dataset") == 0) {
            q->dataset = v;
        } else if (strcmp(k, "budget") == 0) {
            char *end;
            double b = strtod(v, &end);
            if (!*v || *end || !(b > 0) || b > 1000)
                return bad(err, "budget", "range", "budget must be a number in (0, 1000]%s", NULL);
            if (!disclosure_is_admin(p))
                return bad(err, "budget", "forbidden",
                           "only an administrator sets a privacy budget%s", NULL);
            q->budget = b;
        } else if (strcmp(k, "publish") == 0) {
            if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
                return bad(err, "publish", "boolean", "publish must be true or false%s", NULL);
            q->publish = v[0] == 't';
        } else if (known_dim(q->entity, k)) {
            if (!*v)
                return bad(err, k, "required", "filter '%s' needs at least one value", k);
            if (q->nfilters == MAX_FILTERS)
                return bad(err, k, "max_items", "too many filters (at most 16)%s", NULL);
            for (int j = 0; j < q->nfilters; j++) {
                if (strcmp(q->filters[j].name, k) == 0)
                    return bad(err, k, "unique",
                               "filter '%s' given twice: give its values as one comma-separated "
                               "list",
                               k);
            }
            q->filters[q->nfilters].name = k;
            q->filters[q->nfilters++].values = strdup(v);
        } else {
            return bad(err, k, "unknown_parameter",
                       "unknown parameter '%s' (not a dimension of this entity)", k);
        }
    }
    if (q->from && q->to && strcmp(q->from, q->to) > 0)
        return bad(err, "to", "range", "to (%s) is before from", q->to);
    if (!dims || !*dims)
        return bad(err, "dims", "required", "dims: give 1 to 4 dimension names%s", NULL);
    snprintf(q->dims_buf, sizeof q->dims_buf, "%s", dims);
    char *save = NULL;
    for (char *t = strtok_r(q->dims_buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (q->ndims == MAX_DIMS)
            return bad(err, "dims", "max_items", "at most 4 dimensions%s", NULL);
        if (!known_dim(q->entity, t))
            return bad(err, "dims", "enum", "unknown dimension '%s' for this entity", t);
        for (int j = 0; j < q->ndims; j++) {
            if (strcmp(q->dims[j], t) == 0)
                return bad(err, "dims", "unique", "dimension '%s' given twice", t);
        }
        q->dims[q->ndims++] = t;
    }
    if (q->ndims == 0)
        return bad(err, "dims", "required", "dims: give 1 to 4 dimension names%s", NULL);
    bool controlled = report_is_controlled(p, q->publish);
    int floor_t = min_threshold();
    if (q->dc.threshold < 0)
        q->dc.threshold = controlled ? floor_t : 0;
    if (controlled && !p->internal && q->dc.threshold < floor_t)
        return bad(err, "threshold", "min", "the threshold cannot be below the configured %s",
                   floor_t == 10 ? "10" : "minimum");
    /* Whose figures: uncontrolled answers are the caller's organisation's; a
     * controlled one covers every organisation unless scope=organisation keeps
     * it to the caller's (so that a file is the table on screen). */
    if (q->scope && strcmp(q->scope, "organisation") == 0) {
        if (p->internal || !p->org[0])
            return bad(err, "scope", "requires_organisation",
                       "scope=organisation needs a user of an organisation%s", NULL);
        q->scoped = true;
    } else if (q->scope && !controlled && !p->internal) {
        return bad(err, "scope", "requires_publish",
                   "scope=all needs disclosure control: add publish=true%s", NULL);
    } else {
        q->scoped = !p->internal && !controlled;
    }
    q->internal = p->internal;
    if (q->dc.mechanism != DP_NONE && !(q->dc.epsilon > 0))
        return bad(err, "epsilon", "required", "a noise mechanism needs epsilon%s", NULL);
    if (q->dc.epsilon > 0 && q->measure_kind != MS_COUNT)
        return bad(err, "epsilon", "counts_only", "noise applies to counts only%s", NULL);
    if (!q->dataset)
        q->dataset = q->entity;
    /* the default dataset of another entity would be a second budget for the
     * same figures */
    if (!disclosure_is_admin(p) && strcmp(q->dataset, q->entity) != 0 &&
        (strcmp(q->dataset, "cases") == 0 || rec_entity_find(q->dataset)))
        return bad(err, "dataset", "entity",
                   "dataset '%s' is the default dataset of another entity", q->dataset);
    return AMP_OK;
}

/* ==== the cube accumulator ============================================================== */

typedef struct {
    dc_table t;
    size_t stride[MAX_DIMS]; /* of each dimension in the cell array */
    double *sum;             /* per cell, when measuring */
    int64_t *nmeas;          /* per cell: rows with a measured value */
    int64_t *truth;          /* true counts before control (for the "mentions" margins) */
} cube;

typedef struct {
    uint16_t cats[MAX_DIMS][MAX_CATS_PER_ROW];
    int ncats[MAX_DIMS];
} row_cats;

/* Adds one row: for each subset of dimensions put at their total, each
 * combination of the other dimensions' categories.  Cases semantics: a margin
 * counts a row once; mentions: once per category it collapses. */
static void cube_add(cube *cb, const row_cats *rc, bool mentions, bool has_value, double value)
{
    int nd = cb->t.ndims;
    bool simple = true;
    for (int d = 0; d < nd; d++)
        simple = simple && rc->ncats[d] == 1;
    if (simple) { /* one category per dimension: 2^nd cells */
        for (unsigned mask = 0; mask < (1u << nd); mask++) {
            size_t i = 0;
            for (int d = 0; d < nd; d++)
                i += ((mask >> d) & 1 ? cb->t.size[d] : rc->cats[d][0]) * cb->stride[d];
            cb->t.count[i]++;
            if (has_value && cb->sum) {
                cb->sum[i] += value;
                cb->nmeas[i]++;
            }
        }
        return;
    }
    for (unsigned mask = 0; mask < (1u << nd); mask++) {
        int pos[MAX_DIMS] = {0};
        for (;;) {
            size_t i = 0;
            for (int d = 0; d < nd; d++)
                i += ((mask >> d) & 1 ? cb->t.size[d] : rc->cats[d][pos[d]]) * cb->stride[d];
            cb->t.count[i]++;
            if (has_value && cb->sum) {
                cb->sum[i] += value;
                cb->nmeas[i]++;
            }
            int d = nd - 1;
            for (; d >= 0; d--) {
                bool iterate = !(mask & (1u << d)) || mentions;
                if (iterate && ++pos[d] < rc->ncats[d])
                    break;
                pos[d] = 0;
            }
            if (d < 0)
                break;
        }
    }
}

/* ==== answers =============================================================================== */

static void qdim_release(qdim *d)
{
    if (d->owned) {
        for (size_t i = 0; i < d->ncat; i++)
            free(d->codes[i]);
    }
    free(d->codes);
    free(d->allow);
    memset(d, 0, sizeof *d);
}

static bool allowed(const qdim *d, size_t cat)
{
    return !d->allow || (d->allow[cat / 64] >> (cat % 64)) & 1;
}

/* Sets the filter bitmap of d from comma-separated codes; unknown codes are an error. */
/* Sets the filter bitmap of d from comma-separated codes.  A code no record
 * holds yet simply matches nothing, but a code that cannot exist (not a value of
 * a picklist, not a country) is an error naming the filter and the rule. */
static amp_code qdim_set_filter(qdim *d, const catalogue *cat, const char *values, amp_err *err)
{
    d->allow = calloc(d->ncat / 64 + 1, sizeof *d->allow);
    if (!d->allow)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    char *copy = strdup(values), *save = NULL;
    if (!copy)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    amp_code code = AMP_OK;
    for (char *t = strtok_r(copy, ",", &save); t && code == AMP_OK;
         t = strtok_r(NULL, ",", &save)) {
        size_t k = 0;
        while (k < d->ncat && strcmp(d->codes[k], t) != 0)
            k++;
        if (k < d->ncat) {
            d->allow[k / 64] |= 1ull << (k % 64);
            continue;
        }
        if (d->closed || (d->country && !catalogue_is_country(cat, t))) {
            char value[64], msg[200];
            utf8_sanitize(t, value, sizeof value);
            snprintf(msg, sizeof msg, "'%s' is not a %s of %s", value,
                     d->country ? "country code" : "value", d->name);
            amp_err_field(err, d->name, d->country ? "country" : "picklist", msg);
            code = amp_err_set(err, AMP_EINVALID, "%s", msg);
        }
    }
    free(copy);
    return code;
}

static json_t *keys_json(const cube *cb, const qdim *qd, const size_t *idx)
{
    json_t *a = json_array();
    for (int d = 0; d < cb->t.ndims; d++)
        json_array_append_new(a, idx[d] == cb->t.size[d] ? json_null()
                                                         : json_string(qd[d].codes[idx[d]]));
    return a;
}

static json_t *cell_json(const cube *cb, const qdim *qd, size_t i, const size_t *idx, int ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "keys", keys_json(cb, qd, idx));
    if (cb->t.status[i] != DC_SHOWN) {
        json_object_set_new(o, "count", json_null());
        json_object_set_new(o, "suppressed", json_true());
        if (ms != MS_COUNT)
            json_object_set_new(o, ms == MS_SUM ? "sum" : "mean", json_null());
        return o;
    }
    json_object_set_new(o, "count", json_integer(cb->t.count[i]));
    if (ms == MS_SUM)
        json_object_set_new(o, "sum", json_real(round(cb->sum[i] * 100) / 100));
    else if (ms == MS_MEAN)
        json_object_set_new(o, "mean",
                            cb->nmeas[i]
                                ? json_real(round(cb->sum[i] / (double)cb->nmeas[i] * 10) / 10)
                                : json_null());
    return o;
}

/* Controls the cube (when controlled) and builds the answer. */
static json_t *answer(core *c, const query *q, cube *cb, qdim *qd, bool controlled,
                      json_t *population)
{
    int nd = cb->t.ndims;
    cb->truth = malloc(cb->t.ncells * sizeof *cb->truth);
    if (cb->truth)
        memcpy(cb->truth, cb->t.count, cb->t.ncells * sizeof *cb->truth);
    disclosure_opts stated = q->dc;
    if (controlled || q->dc.mechanism != DP_NONE) {
        disclosure_opts o = q->dc;
        if (o.mechanism != DP_NONE) {
            /* a case reaches 2^nd cells (margins), more with multi-valued dims */
            double s = 1;
            for (int d = 0; d < nd; d++)
                s *= qd[d].multi ? (double)qd[d].ncat + 1 : 2;
            o.sensitivity = s;
        }
        disclosure_apply(&cb->t, &o);
        stated = o; /* the answer states the sensitivity the noise used */
    } else if (q->dc.threshold > 1 || q->dc.rounding > 1) {
        disclosure_apply(&cb->t, &q->dc);
    }
    json_t *cells = json_array(), *totals = json_array();
    size_t idx[MAX_DIMS];
    for (size_t i = 0; i < cb->t.ncells; i++) {
        size_t rem = i;
        bool margin = false;
        for (int d = nd - 1; d >= 0; d--) {
            idx[d] = rem % (cb->t.size[d] + 1);
            rem /= cb->t.size[d] + 1;
            margin = margin || idx[d] == cb->t.size[d];
        }
        if (cb->t.status[i] == DC_SHOWN && cb->t.count[i] == 0 &&
            !(margin && i == cb->t.ncells - 1))
            continue;
        json_array_append_new(margin ? totals : cells, cell_json(cb, qd, i, idx, q->measure_kind));
    }
    json_t *cats = json_object(), *dims = json_array(), *dim_labels = json_array();
    bool any_multi = false;
    for (int d = 0; d < nd; d++) {
        json_array_append_new(dims, json_string(qd[d].name));
        json_array_append_new(dim_labels, qd[d].label ? label_json(qd[d].label)
                                                      : same_in_every_language(qd[d].name));
        any_multi = any_multi || qd[d].multi;
        json_t *list = json_array();
        for (size_t k = 0; k < qd[d].ncat; k++) {
            size_t id2[MAX_DIMS];
            for (int e = 0; e < nd; e++)
                id2[e] = cb->t.size[e];
            id2[d] = k;
            if (cb->truth && cb->truth[dc_index(&cb->t, id2)] == 0)
                continue;
            json_array_append_new(list, json_pack("{s:s, s:o}", "code", qd[d].codes[k], "label",
                                                  category_label(c, &qd[d], qd[d].codes[k])));
        }
        json_object_set_new(cats, qd[d].name, list);
    }
    const char *what = q->mentions ? "mentions" : "cases";
    json_t *out = json_pack("{s:s, s:o, s:o, s:s, s:s, s:o, s:o, s:o}", "entity", q->entity, "dims",
                            dims, "dimension_labels", dim_labels, "counts_what", what, "measure",
                            q->measure_kind == MS_COUNT ? "count" : q->measure_buf, "categories",
                            cats, "cells", cells, "totals", totals);
    if (any_multi)
        json_object_set_new(
            out, "counts_note",
            json_string(q->mentions
                            ? "multi-valued dimensions: a case with several values counts once in "
                              "each, and totals add up those mentions"
                            : "multi-valued dimensions: a case with several values counts once in "
                              "each, but once only in totals, so cells may add up to more than "
                              "the total"));
    json_object_set_new(
        out, "disclosure",
        controlled || q->dc.threshold > 1 || q->dc.rounding > 1 || q->dc.mechanism != DP_NONE
            ? disclosure_describe(&cb->t, &stated)
            : json_pack("{s:b, s:s}", "applied", 0, "reason",
                        q->internal ? "figures of every organisation, for internal use "
                                      "only: publish=true applies disclosure control"
                                    : "figures of the caller's own organisation, for "
                                      "internal use: publish=true applies disclosure "
                                      "control"));
    json_object_set_new(out, "population", population);
    return out;
}

static void cube_release(cube *cb)
{
    dc_table_release(&cb->t);
    free(cb->sum);
    free(cb->nmeas);
    free(cb->truth);
}

static amp_code cube_init(cube *cb, const qdim *qd, int nd, bool measured, amp_err *err)
{
    memset(cb, 0, sizeof *cb);
    size_t sizes[MAX_DIMS] = {0};
    for (int d = 0; d < nd; d++)
        sizes[d] = qd[d].ncat;
    amp_code code = dc_table_init(&cb->t, nd, sizes, err);
    if (code != AMP_OK)
        return code;
    for (int d = nd - 1; d >= 0; d--)
        cb->stride[d] = d == nd - 1 ? 1 : cb->stride[d + 1] * (cb->t.size[d + 1] + 1);
    if (measured) {
        cb->sum = calloc(cb->t.ncells, sizeof *cb->sum);
        cb->nmeas = calloc(cb->t.ncells, sizeof *cb->nmeas);
        if (!cb->sum || !cb->nmeas) {
            cube_release(cb);
            return amp_err_set(err, AMP_EINTERNAL, "out of memory");
        }
    }
    return AMP_OK;
}

/* ==== the case of a record ================================================================= */

/* The column-cache row of the case whose uid is case_uid, or -1 when there is
 * none (a record of no case, or of a case erased or not in the cache).  memo
 * maps uids to rows already looked up, so each case is read once per query.
 * Call under the cache's read lock. */
static long case_row_of_uid(core *c, const colcache *cc, json_t *memo, const char *case_uid)
{
    if (!case_uid || !*case_uid)
        return -1;
    const json_t *known = json_object_get(memo, case_uid);
    if (known)
        return (long)json_integer_value(known);
    long row = -1;
    store_row r;
    if (store_case_get(core_store(c), case_uid, &r, NULL) == STORE_OK) {
        row = colcache_row_of_case(cc, r.id);
        if (row >= 0 && !(colcache_flags(cc, (size_t)row) & CCF_LIVE))
            row = -1;
        store_row_release(&r);
    }
    json_object_set_new(memo, case_uid, json_integer(row));
    return row;
}

bool report_record_allows_statistics(core *c, const char *case_uid)
{
    if (!case_uid || !*case_uid)
        return true; /* a record of no case (a training, a hotline contact…) */
    colcache *cc = reports_cache(c);
    amp_err e = {0};
    if (!cc || colcache_sync(cc, &e) != AMP_OK) {
        amp_err_clear(&e);
        return false;
    }
    json_t *memo = json_object();
    colcache_lock_read(cc);
    long row = case_row_of_uid(c, cc, memo, case_uid);
    bool ok = row >= 0 && (colcache_flags(cc, (size_t)row) & CCF_STATS_CONSENT);
    colcache_unlock(cc);
    json_decref(memo);
    return ok;
}

/* ==== cases ================================================================================ */

typedef struct {
    const case_dim *def;
    qdim q;
    uint16_t *map; /* DK_COL / DK_ORG_REGION: dictionary code -> category */
    size_t nmap;
} case_qdim;

static int32_t date_num(const char *s)
{
    return s ? atoi(s) * 10000 + atoi(s + 5) * 100 + atoi(s + 8) : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Builds the categories of a case dimension from the cache's dictionary. */
static amp_code case_qdim_init(case_qdim *x, const case_dim *def, colcache *cc, core *c,
                               amp_err *err)
{
    memset(x, 0, sizeof *x);
    x->def = def;
    x->q.name = def->name;
    x->q.multi = case_dim_multi(def);
    x->q.field = colcache_field(def->col);
    x->q.org = def->kind == DK_COL && def->col == CC_ORG;
    x->q.label = def->label;
    const char *fixed[16];
    size_t nfixed = 0;
    if (def->kind == DK_QUARTER) {
        static const char *const qs[] = {"Q1", "Q2", "Q3", "Q4"};
        for (int i = 0; i < 4; i++)
            fixed[nfixed++] = qs[i];
        /* month code -> quarter + 1 */
        size_t nm = colcache_dict_size(cc, CC_MONTH);
        x->map = calloc(nm + 1, sizeof *x->map);
        if (!x->map)
            return amp_err_set(err, AMP_EINTERNAL, "out of memory");
        x->nmap = nm + 1;
        for (size_t k = 1; k <= nm; k++) {
            const char *m = colcache_dict_value(cc, CC_MONTH, (uint16_t)k);
            int month = m ? atoi(m) : 0;
            x->map[k] = month >= 1 && month <= 12 ? (uint16_t)((month - 1) / 3 + 1) : 0;
        }
    } else if (def->kind == DK_AGE) {
        for (int i = 0; i < NAGE_BINS; i++)
            fixed[nfixed++] = age_bins[i].code;
    } else if (def->kind == DK_MAJORITY) {
        fixed[nfixed++] = "Minor";
        fixed[nfixed++] = "Adult";
    }
    if (def->kind == DK_ORG_REGION) {
        /* regions of the organisations, by organisation code */
        store_row *rows = NULL;
        int nrows = 0;
        size_t norg = colcache_dict_size(cc, CC_ORG);
        x->map = calloc(norg + 1, sizeof *x->map);
        x->q.codes = calloc((size_t)norg + 2, sizeof *x->q.codes);
        x->q.owned = true;
        if (!x->map || !x->q.codes)
            return amp_err_set(err, AMP_EINTERNAL, "out of memory");
        x->nmap = norg + 1;
        if (store_org_list(core_store(c), &rows, &nrows) != STORE_OK)
            return amp_err_set(err, AMP_EINTERNAL, "organisations could not be read");
        for (int i = 0; i < nrows; i++) {
            const char *region = json_string_value(json_object_get(rows[i].doc, "amp_OrgRegion"));
            uint16_t oc = colcache_dict_code(cc, CC_ORG, rows[i].uid);
            if (region && *region && oc) {
                size_t k = 0;
                while (k < x->q.ncat && strcmp(x->q.codes[k], region) != 0)
                    k++;
                if (k == x->q.ncat && k < norg)
                    x->q.codes[x->q.ncat++] = strdup(region);
                if (k < x->q.ncat)
                    x->map[oc] = (uint16_t)(k + 1);
            }
            store_row_release(&rows[i]);
        }
        free(rows);
        x->q.codes[x->q.ncat++] = strdup(NONE_CODE);
        return AMP_OK;
    }
    if (nfixed) {
        x->q.closed = true;
        x->q.codes = calloc(nfixed + 1, sizeof *x->q.codes);
        if (!x->q.codes)
            return amp_err_set(err, AMP_EINTERNAL, "out of memory");
        for (size_t i = 0; i < nfixed; i++)
            x->q.codes[i] = (char *)fixed[i];
        x->q.codes[nfixed] = (char *)NONE_CODE;
        x->q.ncat = nfixed + 1;
        return AMP_OK;
    }
    size_t n = colcache_dict_size(cc, def->col);
    x->q.codes = calloc(n + 1, sizeof *x->q.codes);
    if (!x->q.codes)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        x->q.codes[i] = (char *)colcache_dict_value(cc, def->col, (uint16_t)(i + 1));
    x->q.codes[n] = (char *)NONE_CODE;
    x->q.ncat = n + 1;
    const char *f = colcache_field(def->col);
    const cat_field *cf =
        f[0] ? catalogue_field(core_catalogue(c), strncmp(f, "hte_", 4) == 0 ? "event" : "case", f)
             : NULL;
    bool picklist = cf && (cf->type == FT_PICKLIST || cf->type == FT_MULTISELECT);
    x->q.closed = picklist || def->col == CC_BORDER || def->col == CC_MONTH;
    x->q.country = cf && cf->type == FT_COUNTRY;
    if (!picklist && def->col != CC_BORDER && def->col != CC_MONTH && n > 1) {
        /* data-driven values (years, countries, organisations): in sorted order */
        qsort(x->q.codes, n, sizeof *x->q.codes, cmp_str);
        x->map = calloc(n + 1, sizeof *x->map);
        if (!x->map)
            return amp_err_set(err, AMP_EINTERNAL, "out of memory");
        x->nmap = n + 1;
        for (size_t k = 0; k < n; k++)
            x->map[colcache_dict_code(cc, def->col, x->q.codes[k])] = (uint16_t)(k + 1);
    }
    return AMP_OK;
}

static int age_bin(int age)
{
    if (age < 0)
        return -1;
    for (int i = 0; i < NAGE_BINS; i++) {
        if (age >= age_bins[i].lo && age <= age_bins[i].hi)
            return i;
    }
    return -1;
}

/* Age -> CTDC bin, or -1. */
static int8_t age_bins_of[151];
static pthread_once_t age_bins_once = PTHREAD_ONCE_INIT;

static void age_bins_init(void)
{
    for (int a = 0; a <= 150; a++)
        age_bins_of[a] = (int8_t)age_bin(a);
}

/* The categories of row for dimension x; at least one (the "not recorded" one). */
static inline int case_row_cats(const case_qdim *x, const colcache_view *v, size_t row,
                                uint16_t *out)
{
    const case_dim *def = x->def;
    uint16_t none = (uint16_t)(x->q.ncat - 1);
    int n = 0;
    switch (def->kind) {
    case DK_COL:
        if (v->single[def->col]) {
            uint16_t code = v->single[def->col][row];
            if (x->map)
                code = code < x->nmap ? x->map[code] : 0;
            out[0] = code ? (uint16_t)(code - 1) : none;
            return 1;
        }
        if (v->mask[def->col]) {
            uint64_t m = v->mask[def->col][row];
            while (m && n < MAX_CATS_PER_ROW) {
                out[n++] = (uint16_t)__builtin_ctzll(m);
                m &= m - 1;
            }
        } else {
            const uint16_t *codes = v->multi[def->col][row];
            for (int i = 0; i < CC_MULTI_MAX && codes[i]; i++) {
                uint16_t code = codes[i];
                if (x->map)
                    code = code < x->nmap ? x->map[code] : 0;
                if (code)
                    out[n++] = (uint16_t)(code - 1);
            }
        }
        break;
    case DK_QUARTER: {
        uint16_t code = v->single[CC_MONTH][row];
        uint16_t qv = code < x->nmap ? x->map[code] : 0;
        if (qv)
            out[n++] = (uint16_t)(qv - 1);
        break;
    }
    case DK_AGE: {
        int age = def->age_src ? v->age_exp[row] : v->age_reg[row];
        int b = age >= 0 && age <= 150 ? age_bins_of[age] : -1;
        if (b >= 0)
            out[n++] = (uint16_t)b;
        break;
    }
    case DK_MAJORITY: {
        int age = def->age_src ? v->age_exp[row] : v->age_reg[row];
        if (age >= 0)
            out[n++] = age < 18 ? 0 : 1;
        break;
    }
    case DK_ORG_REGION: {
        uint16_t oc = v->single[CC_ORG][row];
        if (oc < x->nmap && x->map[oc])
            out[n++] = (uint16_t)(x->map[oc] - 1);
        break;
    }
    }
    if (!n)
        out[n++] = none;
    return n;
}

/* One share of the rows of a case crosstab (the rows are split between two
 * threads on large caches). */
typedef struct {
    const colcache_view *v;
    const case_qdim *dims, *filters;
    int nd, nf;
    bool scoped, controlled, mentions, age_measure, measured;
    const bool *only; /* rows allowed (assisted_from/assisted_to), or NULL: every row */
    uint16_t scope_org;
    int32_t from, to;
    size_t first, last; /* rows [first, last) */
    cube cb;
    size_t considered, no_consent;
} case_scan;

static void *case_scan_run(void *arg)
{
    case_scan *s = arg;
    const colcache_view *v = s->v;
    row_cats rc;
    uint16_t fcats[MAX_CATS_PER_ROW];
    for (size_t row = s->first; row < s->last; row++) {
        uint8_t fl = v->flags[row];
        if (!(fl & CCF_LIVE))
            continue;
        if (s->scoped && v->single[CC_ORG][row] != s->scope_org)
            continue;
        if (s->only && !s->only[row])
            continue;
        int32_t rd = v->regdate[row];
        if (rd < s->from || rd > s->to)
            continue;
        bool pass = true;
        for (int f = 0; f < s->nf && pass; f++) {
            int n = case_row_cats(&s->filters[f], v, row, fcats);
            pass = false;
            for (int k = 0; k < n && !pass; k++)
                pass = allowed(&s->filters[f].q, fcats[k]);
        }
        if (!pass)
            continue;
        if (s->controlled && !(fl & CCF_STATS_CONSENT)) {
            s->no_consent++;
            continue;
        }
        s->considered++;
        for (int d = 0; d < s->nd; d++)
            rc.ncats[d] = case_row_cats(&s->dims[d], v, row, rc.cats[d]);
        int age = -1;
        if (s->measured)
            age = s->age_measure ? v->age_exp[row] : v->age_reg[row];
        cube_add(&s->cb, &rc, s->mentions, age >= 0, age);
    }
    return NULL;
}

static amp_code crosstab_cases(core *c, const principal *p, query *q, json_t **out, amp_err *err)
{
    colcache *cc = reports_cache(c);
    if (!cc)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    amp_code code = colcache_sync(cc, err);
    if (code != AMP_OK)
        return code;
    if (q->measure_kind != MS_COUNT && strcmp(q->measure, "age_registration") != 0 &&
        strcmp(q->measure, "age_exploitation") != 0)
        return bad(err, "measure", "enum", "cases measure: age_registration or age_exploitation%s",
                   NULL);
    bool controlled = report_is_controlled(p, q->publish);
    colcache_lock_read(cc);
    case_qdim dims[MAX_DIMS], filters[MAX_FILTERS];
    int nf = 0, nd = 0;
    cube cb;
    memset(&cb, 0, sizeof cb);
    for (; nd < q->ndims; nd++) {
        code = case_qdim_init(&dims[nd], case_dim_find(q->dims[nd]), cc, c, err);
        if (code != AMP_OK) {
            nd++;
            goto out;
        }
    }
    for (; nf < q->nfilters; nf++) {
        code = case_qdim_init(&filters[nf], case_dim_find(q->filters[nf].name), cc, c, err);
        if (code == AMP_OK)
            code = qdim_set_filter(&filters[nf].q, core_catalogue(c), q->filters[nf].values, err);
        if (code != AMP_OK) {
            nf++;
            goto out;
        }
    }
    qdim qd[MAX_DIMS];
    for (int d = 0; d < nd; d++)
        qd[d] = dims[d].q;
    code = cube_init(&cb, qd, nd, q->measure_kind != MS_COUNT, err);
    if (code != AMP_OK)
        goto out;
    uint16_t scope_org = 0;
    bool scoped = q->scoped;
    if (scoped) {
        scope_org = p->org[0] ? colcache_dict_code(cc, CC_ORG, p->org) : 0;
        if (!scope_org)
            scope_org = UINT16_MAX; /* no case of this organisation */
    }
    pthread_once(&age_bins_once, age_bins_init);
    colcache_view view;
    colcache_get_view(cc, &view);
    bool *only = NULL; /* assisted_from/assisted_to: the rows of the cases helped then */
    if (q->assisted_from || q->assisted_to) {
        json_t *helped = NULL, *memo = json_object();
        only = calloc(view.rows + 1, sizeof *only);
        code = only && memo ? AMP_OK : amp_err_set(err, AMP_EINTERNAL, "out of memory");
        if (code == AMP_OK)
            code = indicators_cases_assisted(
                c, NULL, q->assisted_from ? q->assisted_from : "0000-01-01",
                q->assisted_to ? q->assisted_to : "9999-12-31", &helped, err);
        const char *uid;
        json_t *v;
        json_object_foreach (helped, uid, v) {
            long row = case_row_of_uid(c, cc, memo, uid);
            if (row >= 0 && (size_t)row < view.rows)
                only[row] = true;
        }
        json_decref(helped);
        json_decref(memo);
        if (code != AMP_OK) {
            free(only);
            goto out;
        }
    }
    case_scan shares[2];
    size_t nrows = view.rows;
    int nshares = nrows >= 200000 ? 2 : 1;
    for (int k = 0; k < nshares; k++) {
        case_scan *sh = &shares[k];
        memset(sh, 0, sizeof *sh);
        sh->v = &view;
        sh->dims = dims;
        sh->filters = filters;
        sh->nd = nd;
        sh->nf = nf;
        sh->scoped = scoped;
        sh->controlled = controlled;
        sh->mentions = q->mentions;
        sh->age_measure = q->measure && strcmp(q->measure, "age_exploitation") == 0;
        sh->measured = cb.sum != NULL;
        sh->only = only;
        sh->scope_org = scope_org;
        sh->from = q->from ? date_num(q->from) : 0;
        sh->to = q->to ? date_num(q->to) : 99999999;
        sh->first = nrows * (size_t)k / (size_t)nshares;
        sh->last = nrows * (size_t)(k + 1) / (size_t)nshares;
        if (k == 0) {
            sh->cb = cb; /* the first share fills the answer's cube */
        } else if ((code = cube_init(&sh->cb, qd, nd, cb.sum != NULL, err)) != AMP_OK) {
            nshares = 1;
            code = AMP_OK;
        }
    }
    pthread_t helper;
    bool threaded = nshares == 2 && pthread_create(&helper, NULL, case_scan_run, &shares[1]) == 0;
    if (!threaded && nshares == 2)
        shares[0].last = nrows; /* no second thread: one pass over everything */
    case_scan_run(&shares[0]);
    if (threaded) {
        pthread_join(helper, NULL);
        for (size_t i = 0; i < cb.t.ncells; i++) {
            shares[0].cb.t.count[i] += shares[1].cb.t.count[i];
            if (cb.sum) {
                shares[0].cb.sum[i] += shares[1].cb.sum[i];
                shares[0].cb.nmeas[i] += shares[1].cb.nmeas[i];
            }
        }
        shares[0].considered += shares[1].considered;
        shares[0].no_consent += shares[1].no_consent;
    }
    if (nshares == 2)
        cube_release(&shares[1].cb);
    free(only);
    cb = shares[0].cb;
    size_t considered = shares[0].considered, no_consent = shares[0].no_consent;
    colcache_unlock(cc);
    json_t *population = json_pack("{s:I, s:s}", "cases", (json_int_t)considered, "scope",
                                   scoped ? "organisation" : "all");
    if (controlled)
        json_object_set_new(population, "excluded_without_statistics_consent",
                            json_integer((json_int_t)no_consent));
    if (q->assisted_from || q->assisted_to)
        json_object_set_new(population, "assisted",
                            json_pack("{s:s, s:s}", "from",
                                      q->assisted_from ? q->assisted_from : "", "to",
                                      q->assisted_to ? q->assisted_to : ""));
    *out = answer(c, q, &cb, qd, controlled, population);
    cube_release(&cb);
    for (int d = 0; d < nd; d++) {
        free(dims[d].map);
        qdim_release(&dims[d].q);
    }
    for (int f = 0; f < nf; f++) {
        free(filters[f].map);
        qdim_release(&filters[f].q);
    }
    return AMP_OK;
out:
    colcache_unlock(cc);
    cube_release(&cb);
    for (int d = 0; d < nd; d++) {
        free(dims[d].map);
        qdim_release(&dims[d].q);
    }
    for (int f = 0; f < nf; f++) {
        free(filters[f].map);
        qdim_release(&filters[f].q);
    }
    return code;
}

/* ==== records ================================================================================ */

/* The value(s) of a record dimension as strings into out (up to max); returns n. */
static int rec_values(const rec_dim *d, const store_record *r, const char **out, char buf[][16],
                      int max)
{
    const char *v = NULL;
    switch (d->src) {
    case RS_STATUS: v = r->status; break;
    case RS_ORG: v = r->org; break;
    case RS_ORG2: v = r->org2; break;
    case RS_CREATED: v = r->created_at; break;
    case RS_DOC: {
        const json_t *j = json_object_get(r->doc, d->field);
        if (json_is_array(j)) {
            int n = 0;
            size_t i;
            const json_t *e;
            json_array_foreach (j, i, e) {
                if (json_is_string(e) && n < max)
                    out[n++] = json_string_value(e);
            }
            return n;
        }
        if (json_is_string(j))
            v = json_string_value(j);
        else if (json_is_true(j))
            v = "true";
        else if (json_is_false(j))
            v = "false";
        break;
    }
    }
    if (!v || !*v)
        return 0;
    if (d->part != DP_VALUE) {
        if (strlen(v) < 7)
            return 0;
        int m = atoi(v + 5);
        if (d->part == DP_YEAR)
            snprintf(buf[0], 16, "%.4s", v);
        else if (d->part == DP_MONTH)
            snprintf(buf[0], 16, "%02d", m);
        else
            snprintf(buf[0], 16, "Q%d", m >= 1 && m <= 12 ? (m - 1) / 3 + 1 : 0);
        out[0] = buf[0];
        return 1;
    }
    out[0] = v;
    return 1;
}

/* Days since 1970 of "YYYY-MM-DD[...]" plus the fraction of the day from a
 * timestamp "THH:MM"; NAN when not a date. */
static double date_days(const char *s)
{
    int y, m, d, hh = 0, mm = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return NAN;
    if (strlen(s) >= 16 && s[10] == 'T')
        sscanf(s + 11, "%2d:%2d", &hh, &mm);
    /* days from civil (Howard Hinnant's algorithm) */
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097.0 + doe - 719468.0 + (hh * 60 + mm) / 1440.0;
}

static bool rec_measure_value(const rec_measure *m, const store_record *r, double *out)
{
    if (m->kind == RM_FIELD) {
        const json_t *v = json_object_get(r->doc, m->a);
        if (!json_is_number(v))
            return false;
        *out = json_number_value(v);
        return true;
    }
    const char *a = strcmp(m->a, "created_at") == 0
                        ? r->created_at
                        : json_string_value(json_object_get(r->doc, m->a));
    const char *b = json_string_value(json_object_get(r->doc, m->b));
    double da = date_days(a), db = date_days(b);
    if (isnan(da) || isnan(db) || db < da)
        return false;
    *out = m->kind == RM_HOURS ? (db - da) * 24 : floor(db - da + 1e-9);
    return true;
}

/* Finds or adds value to a data-driven dimension's categories. */
static int qdim_intern(qdim *d, size_t *cap, const char *v)
{
    for (size_t k = 0; k < d->ncat; k++) {
        if (strcmp(d->codes[k], v) == 0)
            return (int)k;
    }
    if (d->ncat >= 4096)
        return -1;
    if (d->ncat == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **g = realloc(d->codes, nc * sizeof *g);
        if (!g)
            return -1;
        d->codes = g;
        *cap = nc;
    }
    d->codes[d->ncat] = strdup(v);
    return d->codes[d->ncat] ? (int)d->ncat++ : -1;
}

/* Amounts of money are never added up across currencies.  Unless the query
 * already splits by the measure's currency dimension or keeps one currency by a
 * filter, that dimension is added as the last one (a donor wants the amount
 * per currency, not a refusal); with four dimensions already, 422.  *dim: its
 * index; *added: whether it was added here. */
static amp_code split_by_unit(query *q, const rec_measure *m, int *dim, bool *added, amp_err *err)
{
    *dim = -1;
    *added = false;
    for (int d = 0; d < q->ndims; d++)
        if (strcmp(q->dims[d], m->unit_dim) == 0)
            *dim = d;
    if (*dim >= 0)
        return AMP_OK;
    for (int f = 0; f < q->nfilters; f++)
        if (strcmp(q->filters[f].name, m->unit_dim) == 0 && !strchr(q->filters[f].values, ','))
            return AMP_OK; /* one currency */
    if (q->ndims == MAX_DIMS)
        return bad(err, "dims", "currency_required",
                   "sums and means of amounts are given per currency: put 'currency' among the "
                   "dims (at most 4) or filter one currency%s",
                   NULL);
    q->dims[q->ndims] = m->unit_dim;
    *dim = q->ndims++;
    *added = true;
    return AMP_OK;
}

/* In margins over every currency the sum and mean would add up different
 * currencies: they are left out there (the counts stay), and the answer says so. */
static void drop_mixed_unit_margins(json_t *out, int dim, bool added)
{
    const char *key =
        json_object_get(out, "cells") && json_string_value(json_object_get(out, "measure")) &&
                strncmp(json_string_value(json_object_get(out, "measure")), "sum:", 4) == 0
            ? "sum"
            : "mean";
    static const char *const parts[] = {"cells", "totals"};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *cell;
        json_array_foreach (json_object_get(out, parts[k]), i, cell) {
            if (json_is_null(json_array_get(json_object_get(cell, "keys"), (size_t)dim)))
                json_object_set_new(cell, key, json_null());
        }
    }
    json_object_set_new(
        out, "measure_note",
        json_string(added ? "amounts are given per currency (the currency dimension was added): "
                            "totals over several currencies show the count only"
                          : "amounts are given per currency: totals over several currencies show "
                            "the count only"));
}

/* The values of case dimension def for the case at column-cache row `row`
 * (none for -1: a record of no case); borrowed from the cache.  Call under the
 * cache's read lock. */
static int case_dim_values(const case_dim *def, const colcache *cc, long row, const char **out,
                           int max)
{
    int n = 0;
    if (row < 0)
        return 0;
    size_t r = (size_t)row;
    if (def->kind == DK_AGE || def->kind == DK_MAJORITY) {
        int age =
            def->age_src ? colcache_age_exploitation(cc, r) : colcache_age_registration(cc, r);
        int b = age_bin(age);
        if (b >= 0)
            out[n++] = def->kind == DK_AGE ? age_bins[b].code : age < 18 ? "Minor" : "Adult";
        return n;
    }
    if (colcache_kind(def->col) == CCK_SINGLE) {
        uint16_t code = colcache_single(cc, def->col, r);
        const char *v = code ? colcache_dict_value(cc, def->col, code) : NULL;
        if (v)
            out[n++] = v;
    } else if (colcache_kind(def->col) == CCK_MASK) {
        for (uint64_t m = colcache_mask(cc, def->col, r); m && n < max; m &= m - 1) {
            const char *v = colcache_dict_value(cc, def->col, (uint16_t)(__builtin_ctzll(m) + 1));
            if (v)
                out[n++] = v;
        }
    } else {
        const uint16_t *codes = colcache_multi(cc, def->col, r);
        for (int i = 0; i < CC_MULTI_MAX && codes[i] && n < max; i++) {
            const char *v = colcache_dict_value(cc, def->col, codes[i]);
            if (v)
                out[n++] = v;
        }
    }
    return n;
}

/* Where a record dimension's values come from: the record (rd) or its case (cd). */
typedef struct {
    core *c;
    colcache *cc; /* read-locked, when a dimension or the consent needs cases */
    json_t *memo; /* case uid -> cache row (case_row_of_uid) */
} rec_case_ctx;

static int record_dim_values(rec_case_ctx *x, const rec_dim *rd, const case_dim *cd,
                             const store_record *r, const char **out, char buf[][16], int max)
{
    if (rd)
        return rec_values(rd, r, out, buf, max);
    long row = x->cc && r->case_uid[0] ? case_row_of_uid(x->c, x->cc, x->memo, r->case_uid) : -1;
    return case_dim_values(cd, x->cc, row, out, max);
}

static amp_code crosstab_records(core *c, const principal *p, query *q, json_t **out, amp_err *err)
{
    const rec_entity *e = rec_entity_find(q->entity);
    const rec_measure *meas = NULL;
    if (q->measure_kind != MS_COUNT && !(meas = rec_measure_find(e, q->measure)))
        return bad(err, "measure", "enum", "'%s' is not a measure of this entity", q->measure);
    int unit_dim = -1; /* the dimension of the measure's currency, when it has one */
    bool unit_added = false;
    if (meas && meas->unit_dim) {
        amp_code uc = split_by_unit(q, meas, &unit_dim, &unit_added, err);
        if (uc != AMP_OK)
            return uc;
    }
    bool controlled = report_is_controlled(p, q->publish);
    /* dimensions and filters of the records' cases (gender, age group…) */
    const case_dim *cdefs[MAX_DIMS] = {0}, *cfdefs[MAX_FILTERS] = {0};
    bool by_case = false;
    for (int d = 0; d < q->ndims; d++)
        by_case |= (cdefs[d] = record_case_dim(e, q->dims[d])) != NULL;
    for (int f = 0; f < q->nfilters; f++)
        by_case |= (cfdefs[f] = record_case_dim(e, q->filters[f].name)) != NULL;
    /* published figures leave out the records of cases whose consent does not
     * allow statistics, as the case counts do; the column cache knows it, and
     * the characteristics of the cases */
    colcache *cc = NULL;
    if (controlled || by_case) {
        amp_code cc_code = AMP_OK;
        cc = reports_cache(c);
        if (!cc)
            return amp_err_set(err, AMP_EINTERNAL, "out of memory");
        if ((cc_code = colcache_sync(cc, err)) != AMP_OK)
            return cc_code;
    }
    store_record_query sq = {.kind = e->kind};
    store_record *rows = NULL;
    int nrows = 0;
    if (store_record_list(core_store(c), &sq, &rows, &nrows, NULL) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the records could not be read");
    json_t *case_rows = json_object();
    size_t no_consent = 0;
    if (cc)
        colcache_lock_read(cc);
    rec_case_ctx rx = {.c = c, .cc = cc, .memo = case_rows};
    bool fixed_order[MAX_DIMS] = {0};
    bool scoped = q->scoped;
    qdim qd[MAX_DIMS];
    size_t caps[MAX_DIMS] = {0};
    memset(qd, 0, sizeof qd);
    const rec_dim *defs[MAX_DIMS];
    const rec_dim *fdefs[MAX_FILTERS];
    for (int d = 0; d < q->ndims; d++) {
        defs[d] = rec_dim_find(e, q->dims[d]);
        if (cdefs[d]) { /* a dimension of the record's case */
            qd[d].name = cdefs[d]->name;
            qd[d].owned = true;
            qd[d].field = cdefs[d]->kind == DK_COL ? colcache_field(cdefs[d]->col) : "";
            qd[d].label = cdefs[d]->label;
            qd[d].country = cdefs[d]->kind == DK_COL && colcache_field(cdefs[d]->col)[0] &&
                            (cdefs[d]->col == CC_CITIZENSHIP || cdefs[d]->col == CC_COUNTRY_EXPL ||
                             cdefs[d]->col == CC_ORIGIN || cdefs[d]->col == CC_TRANSIT ||
                             cdefs[d]->col == CC_REG_COUNTRY);
            /* age groups and majority in their natural order, every one shown */
            if (cdefs[d]->kind == DK_AGE || cdefs[d]->kind == DK_MAJORITY) {
                fixed_order[d] = true;
                for (int k = 0; k < (cdefs[d]->kind == DK_AGE ? NAGE_BINS : 2); k++)
                    qdim_intern(&qd[d], &caps[d],
                                cdefs[d]->kind == DK_AGE ? age_bins[k].code
                                : k                      ? "Adult"
                                                         : "Minor");
            }
            continue;
        }
        qd[d].name = defs[d]->name;
        qd[d].owned = true;
        qd[d].field = "";
        qd[d].list = rec_dim_list(e->name, defs[d]->name);
        qd[d].label = defs[d]->label;
        qd[d].org = defs[d]->src == RS_ORG || defs[d]->src == RS_ORG2 ||
                    (defs[d]->src == RS_DOC && strcmp(defs[d]->field, "provider_org") == 0);
        if (defs[d]->src == RS_DOC && strcmp(defs[d]->field, "shelter") == 0)
            qd[d].rec_kind = "shelter";
    }
    for (int f = 0; f < q->nfilters; f++)
        fdefs[f] = rec_dim_find(e, q->filters[f].name);
    /* rows in scope and passing the filters; first pass collects categories */
    bool *keep = calloc((size_t)nrows + 1, sizeof *keep);
    amp_code code = keep ? AMP_OK : amp_err_set(err, AMP_EINTERNAL, "out of memory");
    size_t considered = 0;
    for (int i = 0; i < nrows && code == AMP_OK; i++) {
        store_record *r = &rows[i];
        if (scoped && strcmp(r->org, p->org) != 0 && strcmp(r->org2, p->org) != 0)
            continue;
        if (q->from || q->to) {
            const char *dv = strcmp(e->date_field, "created_at") == 0
                                 ? r->created_at
                                 : json_string_value(json_object_get(r->doc, e->date_field));
            if (!dv || strlen(dv) < 10)
                continue;
            if ((q->from && strncmp(dv, q->from, 10) < 0) || (q->to && strncmp(dv, q->to, 10) > 0))
                continue;
        }
        bool pass = true;
        for (int f = 0; f < q->nfilters && pass; f++) {
            const char *vals[MAX_CATS_PER_ROW];
            char buf[1][16];
            int n = record_dim_values(&rx, fdefs[f], cfdefs[f], r, vals, buf, MAX_CATS_PER_ROW);
            pass = false;
            for (int k = 0; k < n && !pass; k++) {
                char *copy = strdup(q->filters[f].values), *save = NULL;
                for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !pass;
                     t = strtok_r(NULL, ",", &save))
                    pass = strcmp(t, vals[k]) == 0;
                free(copy);
            }
        }
        if (!pass)
            continue;
        if (controlled && r->case_uid[0]) {
            long row = case_row_of_uid(c, cc, case_rows, r->case_uid);
            if (row < 0 || !(colcache_flags(cc, (size_t)row) & CCF_STATS_CONSENT)) {
                no_consent++;
                continue;
            }
        }
        keep[i] = true;
        considered++;
        for (int d = 0; d < q->ndims; d++) {
            const char *vals[MAX_CATS_PER_ROW];
            char buf[1][16];
            int n = record_dim_values(&rx, defs[d], cdefs[d], r, vals, buf, MAX_CATS_PER_ROW);
            qd[d].multi = qd[d].multi || n > 1;
            for (int k = 0; k < n; k++)
                qdim_intern(&qd[d], &caps[d], vals[k]);
        }
    }
    for (int d = 0; d < q->ndims && code == AMP_OK; d++) {
        if (qdim_intern(&qd[d], &caps[d], NONE_CODE) < 0)
            code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
        /* sort categories (but keep "_none" last) for a stable answer */
        if (qd[d].ncat > 2 && !fixed_order[d])
            for (size_t a = 0; a + 2 < qd[d].ncat + 0; a++)
                for (size_t b = a + 1; b + 1 < qd[d].ncat; b++)
                    if (strcmp(qd[d].codes[a], qd[d].codes[b]) > 0) {
                        char *t = qd[d].codes[a];
                        qd[d].codes[a] = qd[d].codes[b];
                        qd[d].codes[b] = t;
                    }
    }
    cube cb;
    memset(&cb, 0, sizeof cb);
    if (code == AMP_OK)
        code = cube_init(&cb, qd, q->ndims, meas != NULL, err);
    for (int i = 0; i < nrows && code == AMP_OK; i++) {
        if (!keep[i])
            continue;
        row_cats rc;
        for (int d = 0; d < q->ndims; d++) {
            const char *vals[MAX_CATS_PER_ROW];
            char buf[1][16];
            int n =
                record_dim_values(&rx, defs[d], cdefs[d], &rows[i], vals, buf, MAX_CATS_PER_ROW);
            rc.ncats[d] = 0;
            for (int k = 0; k < n; k++) {
                for (size_t m = 0; m < qd[d].ncat; m++) {
                    if (strcmp(qd[d].codes[m], vals[k]) == 0) {
                        rc.cats[d][rc.ncats[d]++] = (uint16_t)m;
                        break;
                    }
                }
            }
            if (!rc.ncats[d])
                rc.cats[d][rc.ncats[d]++] = (uint16_t)(qd[d].ncat - 1);
        }
        double v = 0;
        bool has = meas && rec_measure_value(meas, &rows[i], &v);
        cube_add(&cb, &rc, q->mentions, has, v);
    }
    if (cc)
        colcache_unlock(cc);
    json_decref(case_rows);
    if (code == AMP_OK) {
        json_t *population = json_pack("{s:I, s:s}", "records", (json_int_t)considered, "scope",
                                       scoped ? "organisation" : "all");
        if (controlled)
            json_object_set_new(population, "excluded_without_statistics_consent",
                                json_integer((json_int_t)no_consent));
        *out = answer(c, q, &cb, qd, controlled, population);
        if (unit_dim >= 0)
            drop_mixed_unit_margins(*out, unit_dim, unit_added);
    }
    cube_release(&cb);
    for (int d = 0; d < q->ndims; d++)
        qdim_release(&qd[d]);
    for (int i = 0; i < nrows; i++)
        store_record_release(&rows[i]);
    free(rows);
    free(keep);
    return code;
}

/* ==== the entry point ========================================================================= */

amp_code report_crosstab(core *c, const principal *p, const list_param *params, size_t nparams,
                         json_t **out, amp_err *err)
{
    *out = NULL;
    amp_code code = authz_require(p, ACT_READ, RES_REPORT, err);
    if (code != AMP_OK)
        return code;
    query q;
    code = parse_query_params(p, params, nparams, &q, err);
    if (code == AMP_OK && q.budget > 0) /* an administrator's budget=: define the dataset */
        code = disclosure_ledger_define(c, p, q.dataset, q.budget, err);
    if (code == AMP_OK && q.dc.mechanism != DP_NONE) {
        { /* every noisy release spends from the dataset's (stored) budget */
            char release[200];
            snprintf(release, sizeof release, "crosstab %s by %s%s%s%s%s%s%s", q.entity, q.dims[0],
                     q.ndims > 1 ? "," : "", q.ndims > 1 ? q.dims[1] : "", q.ndims > 2 ? "," : "",
                     q.ndims > 2 ? q.dims[2] : "", q.ndims > 3 ? "," : "",
                     q.ndims > 3 ? q.dims[3] : "");
            double spent = 0;
            code = disclosure_ledger_spend(c, p, q.dataset, strcmp(q.dataset, q.entity) == 0,
                                           q.dc.epsilon, release, &spent, err);
        }
    }
    if (code == AMP_OK)
        code = strcmp(q.entity, "cases") == 0 ? crosstab_cases(c, p, &q, out, err)
                                              : crosstab_records(c, p, &q, out, err);
    if (code == AMP_OK && q.dc.mechanism != DP_NONE)
        json_object_set_new(json_object_get(*out, "disclosure"), "dataset", json_string(q.dataset));
    query_release(&q);
    return code;
}
