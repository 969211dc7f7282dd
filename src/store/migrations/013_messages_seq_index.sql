-- An index of the seqs alone (issue 19). A page far down the list by `start` (the web inbox's
-- jumps, Mailpit's offset paging) skips its rows with OFFSET, and the table's own b-tree keeps
-- whole rows in its leaves: skipping 49,950 of a million read ~34 MB of pages (21 ms). This index
-- holds a few bytes an entry, so the skip reads ~0.5 MB (under 1 ms); the page's rows are then
-- read by seq (store/sqlite.ts, `NEWEST_BY_OFFSET`). Maintained at the right edge only (seqs
-- grow), one more page for a commit to write.
CREATE INDEX messages_seq ON messages (seq);
