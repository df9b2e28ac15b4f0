/* A small SQLite workload: builds a table in memory, queries and aggregates it. */
#include <stdio.h>
#include "sqlite3.h"

static int row(void *acc, int n, char **vals, char **cols) {
    (void)cols;
    for (int i = 0; i < n; i++) printf("%s%s", i ? " | " : "", vals[i] ? vals[i] : "NULL");
    printf("\n");
    (*(int *)acc)++;
    return 0;
}

int main(void) {
    sqlite3 *db;
    char *err = 0;
    int rows = 0;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 1;
    const char *sql =
        "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL);"
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)"
        "  INSERT INTO t(name, score) SELECT 'n' || x, (x * 37 % 101) / 7.0 FROM c;"
        "CREATE INDEX t_score ON t(score);"
        "SELECT count(*), round(avg(score), 3), max(name) FROM t;"
        "SELECT name, score FROM t WHERE score > 14 ORDER BY score DESC, id LIMIT 5;"
        "SELECT json_object('n', count(*), 'sum', round(sum(score), 2)) FROM t WHERE id % 3 = 0;";
    if (sqlite3_exec(db, sql, row, &rows, &err) != SQLITE_OK) {
        printf("error: %s\n", err);
        return 2;
    }
    sqlite3_close(db);
    return rows == 7 ? 0 : 3;
}
