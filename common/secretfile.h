/* secretfile.h - reading a file that holds a secret (a token-signing secret, a password).
 * The file must be a regular file that neither its group nor others can access: a secret
 * readable by other users is refused with the chmod that fixes it, rather than used. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

/* Reads all of path into buf (cap bytes, owned by the caller; the caller wipes it). what
 * names the secret in the messages ("password", "secret"). Returns the byte count (0 to
 * cap), or a negative errno with err: -ENOENT and the like from open/read, -EINVAL for
 * something other than a regular file (a FIFO is refused without blocking), -EPERM for a
 * mode that lets group or others in, -EFBIG when the file holds more than cap bytes. */
ssize_t secretfile_read(const char *path, const char *what, char *buf, size_t cap, char *err,
                        size_t errlen);
