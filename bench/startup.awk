# Summarises bench/run.sh's startup.tsv into Markdown (medians) and checks the issue's start-up and
# idle-memory targets. Columns: label rep first_200_us healthz_us logged_ms idle_rss_kb (-1 = none).
function median(key, col,    n, i, j, a, t) {
    n = cnt[key]
    for (i = 1; i <= n; i++) a[i] = val[key, i, col]
    for (i = 2; i <= n; i++) { t = a[i]; j = i - 1; while (j >= 1 && a[j] > t) { a[j + 1] = a[j]; j-- } a[j + 1] = t }
    if (n % 2) return a[(n + 1) / 2]
    return (a[n / 2] + a[n / 2 + 1]) / 2
}
function verdict(ok) { return ok ? "**met**" : "**MISSED**" }
{
    l = $1
    if (!(l in cnt)) order[++nl] = l
    n = ++cnt[l]
    val[l, n, "api"] = $3; val[l, n, "health"] = $4; val[l, n, "logged"] = $5; val[l, n, "rss"] = $6
    if ($3 < 0) never[l]++
}
END {
    print "| Process | runs | start to first 200 ms | start to /healthz 200 ms | \"started in\" (log) ms | idle RSS MB |"
    print "|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= nl; i++) {
        l = order[i]
        name = (l == "nginx" ? "nginx proxy" : "Conflux, " l)
        a = median(l, "api"); h = median(l, "health"); g = median(l, "logged"); r = median(l, "rss")
        api[l] = a; rss[l] = r
        printf "| %s | %d | %s | %s | %s | %.1f |\n", name, cnt[l],
            (never[l] ? sprintf("never in %d of %d", never[l], cnt[l]) : sprintf("%.1f", a / 1000)),
            (h < 0 ? "–" : sprintf("%.1f", h / 1000)), (g < 0 ? "–" : g), r / 1024
    }
    if (("1-api" in cnt) || ("500-apis" in cnt)) {
        print ""
        print "Targets (issue 7), start-up and memory:"
        print ""
    }
    if ("1-api" in cnt) {
        if (never["1-api"]) print "- ready with 1 API <= 50 ms: **MISSED** (no successful request)"
        else printf "- ready with 1 API <= 50 ms: %s (%.1f ms)\n", verdict(api["1-api"] <= 50000), api["1-api"] / 1000
        printf "- idle RSS <= 20 MB: %s (%.1f MB)\n", verdict(rss["1-api"] <= 20480), rss["1-api"] / 1024
    }
    if ("500-apis" in cnt) {
        if (never["500-apis"]) print "- ready with 500 APIs <= 300 ms: **MISSED** (no successful request)"
        else printf "- ready with 500 APIs <= 300 ms: %s (%.1f ms)\n", verdict(api["500-apis"] <= 300000), api["500-apis"] / 1000
    }
}
