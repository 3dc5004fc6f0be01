/* log.h — one line per event on stderr: time, level, message.  Client errors are
 * not logged as errors; internal failures always are. */
#ifndef AMPARO_LOG_H
#define AMPARO_LOG_H

void log_set_quiet(int quiet);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
