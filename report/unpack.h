/* unpack.h - turn an attachment's bytes into a pull stream of report XML
 *
 * Raw XML, gzip (zlib; concatenated members, trailing bytes tolerated) and zip (libzip, from
 * memory; the XML entry is picked) are recognised by their magic bytes, never by a label. One
 * archive layer inside another (gzip in zip, gzip in gzip) is unwrapped; a third is
 * NESTED_ARCHIVE. Output is produced on demand, a slice at a time, and counted against
 * limits->unpacked_bytes and limits->unpack_ratio (past limits->ratio_after_bytes), so a bomb costs
 * one rejected message and no memory. Nothing is ever written to disk. */
#ifndef DT_UNPACK_H
#define DT_UNPACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report/error.h"
#include "report/limits.h"
#include "report/macro.h"

enum dt_format {
        DT_FORMAT_XML,          /* looks like XML (optional BOM/whitespace, then '<') */
        DT_FORMAT_GZIP,         /* 1f 8b */
        DT_FORMAT_ZIP,          /* PK\3\4 (or an empty archive's PK\5\6) */
        DT_FORMAT_UNKNOWN,
        _DT_FORMAT_MAX,
};

struct dt_input;

/* dt_unpack_sniff - the format of data by content; DT_FORMAT_UNKNOWN for anything else */
enum dt_format dt_unpack_sniff(const void *data, size_t len);

/* dt_unpack_open - open a stream over data (borrowed: it must outlive the stream).
 * Fails with UNKNOWN_FORMAT, ZIP_* (no or several XML entries, encrypted, unsupported method,
 * too many entries), NESTED_ARCHIVE, or EMPTY. */
int dt_unpack_open(const void *data, size_t len, const struct dt_limits *lim,
                   struct dt_input **out, struct dt_error *err);

/* dt_input_new_reader - a raw (uncompressed XML) stream over a caller's read function, e.g. a
 * file descriptor. read returns >0 bytes, 0 at end, <0 -errno. ctx is borrowed. The byte count is
 * still capped by lim->unpacked_bytes. */
int dt_input_new_reader(ssize_t (*read_fn)(void *ctx, void *buf, size_t n), void *ctx,
                        const struct dt_limits *lim, struct dt_input **out);

/* dt_input_read - up to n bytes of decoded output: >0 bytes, 0 at end, <0 on error, the details
 * in dt_input_error(). After an error every further call returns the same error. */
ssize_t dt_input_read(struct dt_input *in, void *buf, size_t n);

/* dt_input_error - the error that stopped the stream, or NULL; borrowed */
const struct dt_error *dt_input_error(const struct dt_input *in);

/* dt_input_describe - the layers, e.g. "xml", "gzip", "zip", "zip+gzip", "gzip+gzip"; borrowed */
const char *dt_input_describe(const struct dt_input *in);

/* dt_input_entry_name - the zip entry's name as stored (hostile: sanitise before printing), or
 * NULL when there is no zip layer; borrowed */
const char *dt_input_entry_name(const struct dt_input *in);

/* dt_input_produced - decoded bytes handed out so far */
uint64_t dt_input_produced(const struct dt_input *in);

/* dt_input_free - NULL-safe; returns NULL */
struct dt_input *dt_input_free(struct dt_input *in);
DEFINE_FREEP(struct dt_input, dt_input_free)

#endif
