/* text.h - making text from a sandbox inert: whatever a submission printed, raised or
 * named must look like itself on a terminal, in JSON and on a page, and never like
 * something else (a forged line, a colour, text that runs right to left). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* A malloc'd, NUL-terminated copy of len bytes that is valid UTF-8 (an invalid byte
 * becomes '?') in which C0 controls (tab too) and DEL (but newline, unless line is set),
 * C1 controls (U+0080-U+009F), bidirectional marks, embeddings, overrides and isolates
 * (U+200E, U+200F, U+061C, U+202A-U+202E, U+2066-U+2069) and the separators U+2028 and
 * U+2029 become a space. Never longer than the input. NULL on ENOMEM. */
char *text_inert(const char *s, size_t len, bool line);
