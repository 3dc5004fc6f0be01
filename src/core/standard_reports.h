/* standard_reports.h — ready-to-run report packs and the dashboard figures.
 *
 * A pack is a list of tables, each a crosstab answer (report.h) with a "name"
 * and a "title" (in the caller's language).  Packs are publications: every
 * table goes through disclosure control whoever asks (publish=true).
 *   action-plan    the national action-plan pack: victims identified and
 *                  assisted by year, sex, age, nationality and exploitation;
 *                  assistance by type; referrals and response times; returns
 *                  and reunifications; shelter stays and their length;
 *                  reintegration outcomes; trainings and participants
 *   donor-results  indicators against targets (records of kind "indicator")
 *                  and the results figures donors ask for
 *   nrm-quarterly  the quarterly breakdowns national referral mechanisms
 *                  publish: identifications, sex, age, exploitation, route,
 *                  referrals and hotline contacts by quarter */
#ifndef AMPARO_STANDARD_REPORTS_H
#define AMPARO_STANDARD_REPORTS_H

#include "core/core.h"

/** The list: {"items": [{"name", "title": {en,es,fr,uk}, "description"}]}. */
json_t *standard_reports_list(void);

/** Runs a pack for a year ("2025"; NULL: the current year).  *out: {"name",
 *  "title", "year", "generated_at", "tables": [...]}.  AMP_ENOTFOUND for an
 *  unknown name; AMP_EINVALID for a bad year; audited as "report.standard". */
amp_code standard_report_run(core *c, const principal *p, const char *name, const char *year,
                             json_t **out, amp_err *err);

/** The dashboard figures: {"tables": [...], "routes": crosstab,
 *  "shelter_occupancy": {"months": [...], "cells": [...]}}; disclosure-controlled for
 *  roles without case access. */
amp_code report_dashboard(core *c, const principal *p, json_t **out, amp_err *err);

#endif
