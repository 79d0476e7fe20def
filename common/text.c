/* text.c - see text.h. */
#include "text.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1-4) and its code point, or 0. */
static size_t utf8_decode(const unsigned char *p, size_t n, unsigned *cp_out)
{
	unsigned c = p[0];
	size_t len;
	unsigned min;
	if (c < 0x80) {
		*cp_out = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0)
		len = 2, min = 0x80;
	else if ((c & 0xF0) == 0xE0)
		len = 3, min = 0x800;
	else if ((c & 0xF8) == 0xF0)
		len = 4, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	unsigned cp = c & (0x7Fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3Fu);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	*cp_out = cp;
	return len;
}

static bool inert_space(unsigned cp, bool line)
{
	if (cp < 0x20)
		return line || cp != '\n';
	return cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C ||
	       cp == 0x2028 || cp == 0x2029;
}

char *text_inert(const char *s, size_t len, bool line)
{
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		unsigned cp = 0;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			out[o++] = '?';
			i++;
		} else if (inert_space(cp, line)) {
			out[o++] = ' '; /* never longer than the sequence it replaces */
			i += n;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return out;
}
