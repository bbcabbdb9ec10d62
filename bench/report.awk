# Summarises bench/run.sh's runs.tsv (one line per measured run) into Markdown: medians per scenario
# and target, ratios against nginx and direct, and the issues' targets (7: the GETs; 22: the MI idioms,
# content-based routing against pass-through, 2 cores against 1). Run with -F'\t' -v tck=CLK_TCK
# [-v layout=A].
# Columns: scenario target rep requests duration_us p50_us p99_us proxy_ticks backend_ticks
#          peak_rss_kb errors foreign_pct attempts
function median(key, col,    n, i, j, a, t) {
    n = cnt[key]
    for (i = 1; i <= n; i++) a[i] = val[key, i, col]
    for (i = 2; i <= n; i++) { t = a[i]; j = i - 1; while (j >= 1 && a[j] > t) { a[j + 1] = a[j]; j-- } a[j + 1] = t }
    if (n % 2) return a[(n + 1) / 2]
    return (a[n / 2] + a[n / 2 + 1]) / 2
}
function has(s, t) { return ((s, t) in cnt) }
function fmt(x, d) { return (x == "" ? "–" : sprintf("%." d "f", x)) }
function verdict(ok) { return ok ? "**met**" : "**MISSED**" }
{
    s = $1; t = $2
    if (!(s in seen)) { seen[s] = 1; order[++ns] = s }
    if (!((s, t) in cnt)) { tseen[s, t] = 1 }
    n = ++cnt[s, t]
    val[s, t, n, "rps"] = $4 * 1000000 / $5
    val[s, t, n, "p50"] = $6 / 1000
    val[s, t, n, "p99"] = $7 / 1000
    val[s, t, n, "cpu"] = ($8 / tck) / $4 * 100000
    val[s, t, n, "bcpu"] = ($9 / tck) / $4 * 100000
    if ($10 > rss[s, t]) rss[s, t] = $10
    err[s, t] += $11
    if ($12 > foreign[s, t]) foreign[s, t] = $12
}
END {
    if (ns == 0) { print "No load runs were measured."; exit }
    nt = split("direct nginx conflux baseline", targets, " ")
    print "| Scenario | Target | req/s | p50 ms | p99 ms | proxy CPU-s /100k req | backend CPU-s /100k req | proxy peak RSS MB | errors | max foreign CPU % |"
    print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= ns; i++) {
        s = order[i]
        for (k = 1; k <= nt; k++) {
            t = targets[k]
            if (!has(s, t)) continue
            rps[s, t] = median(s SUBSEP t, "rps"); p50[s, t] = median(s SUBSEP t, "p50"); p99[s, t] = median(s SUBSEP t, "p99")
            cpu[s, t] = median(s SUBSEP t, "cpu"); bcpu[s, t] = median(s SUBSEP t, "bcpu")
            printf "| %s | %s | %d | %.2f | %.2f | %s | %.2f | %s | %d | %d |\n", s, t, rps[s, t], p50[s, t], p99[s, t],
                (t == "direct" ? "–" : sprintf("%.2f", cpu[s, t])), bcpu[s, t],
                (t == "direct" ? "–" : sprintf("%.1f", rss[s, t] / 1024)), err[s, t], foreign[s, t]
        }
    }
    print ""
    print "| Scenario | Conflux/nginx req/s | Conflux/nginx CPU per req | Conflux/direct req/s | nginx/direct req/s | p99 added over direct: Conflux | p99 added over direct: nginx |"
    print "|---|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= ns; i++) {
        s = order[i]
        cn = (has(s, "conflux") && has(s, "nginx")); cd = (has(s, "conflux") && has(s, "direct")); nd = (has(s, "nginx") && has(s, "direct"))
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", s,
            cn ? sprintf("%.2f", rps[s, "conflux"] / rps[s, "nginx"]) : "–",
            cn ? sprintf("%.2f", cpu[s, "conflux"] / cpu[s, "nginx"]) : "–",
            cd ? sprintf("%.2f", rps[s, "conflux"] / rps[s, "direct"]) : "–",
            nd ? sprintf("%.2f", rps[s, "nginx"] / rps[s, "direct"]) : "–",
            cd ? sprintf("%+.2f ms", p99[s, "conflux"] - p99[s, "direct"]) : "–",
            nd ? sprintf("%+.2f ms", p99[s, "nginx"] - p99[s, "direct"]) : "–"
    }
    # A baseline Conflux (BASELINE_BIN) measured in the same run: the measured build against it.
    nb = 0
    for (i = 1; i <= ns; i++) if (has(order[i], "baseline") && has(order[i], "conflux")) nb++
    if (nb > 0) {
        print ""
        print "| Scenario | Conflux/baseline req/s | Conflux/baseline CPU per req | CPU-s /100k: baseline -> Conflux | peak RSS MB: baseline -> Conflux | baseline/nginx CPU per req |"
        print "|---|---:|---:|---:|---:|---:|"
        for (i = 1; i <= ns; i++) {
            s = order[i]
            if (!(has(s, "baseline") && has(s, "conflux"))) continue
            printf "| %s | %.2f | %.2f | %.2f -> %.2f | %.1f -> %.1f | %s |\n", s,
                rps[s, "conflux"] / rps[s, "baseline"], cpu[s, "conflux"] / cpu[s, "baseline"],
                cpu[s, "baseline"], cpu[s, "conflux"], rss[s, "baseline"] / 1024, rss[s, "conflux"] / 1024,
                has(s, "nginx") ? sprintf("%.2f", cpu[s, "baseline"] / cpu[s, "nginx"]) : "–"
        }
    }
    # Multi-core: each *-2cpu scenario against the same scenario on the layout's proxy CPUs.
    n2 = 0
    for (i = 1; i <= ns; i++) {
        s = order[i]
        if (s !~ /-2cpu$/) continue
        b = substr(s, 1, length(s) - 5)
        if (!(b in seen)) continue
        if (n2++ == 0) {
            print ""
            print "Multi-core: the proxy on 2 cores (`*-2cpu`) against the layout's proxy CPUs, same run:"
            print ""
            print "| Scenario | Conflux req/s 1 -> 2 cores | Conflux 2/1 | Conflux CPU-s /100k 1 -> 2 | nginx req/s 1 -> 2 workers | nginx 2/1 | Conflux/nginx req/s on 2 cores |"
            print "|---|---:|---:|---:|---:|---:|---:|"
        }
        cc = (has(s, "conflux") && has(b, "conflux")); nn = (has(s, "nginx") && has(b, "nginx"))
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", b,
            cc ? sprintf("%d -> %d", rps[b, "conflux"], rps[s, "conflux"]) : "–",
            cc ? sprintf("%.2f", rps[s, "conflux"] / rps[b, "conflux"]) : "–",
            cc ? sprintf("%.2f -> %.2f", cpu[b, "conflux"], cpu[s, "conflux"]) : "–",
            nn ? sprintf("%d -> %d", rps[b, "nginx"], rps[s, "nginx"]) : "–",
            nn ? sprintf("%.2f", rps[s, "nginx"] / rps[b, "nginx"]) : "–",
            (has(s, "conflux") && has(s, "nginx")) ? sprintf("%.2f", rps[s, "conflux"] / rps[s, "nginx"]) : "–"
        if (cc) scale[b] = rps[s, "conflux"] / rps[b, "conflux"]
    }
    # The issues' load targets: the GET scenarios (issue 7; both body sizes, 50 and 500
    # connections) and the MI idioms (issue 22), against nginx; content-based routing against the
    # same POST passed through; 2 cores against 1.
    lines = 0
    for (i = 1; i <= ns; i++) {
        s = order[i]
        if (s ~ /^cbr-/ && has(s, "conflux")) {
            b = s; sub(/^cbr-json-filter-/, "pass-json-", b)
            if (has(b, "conflux")) {
                r = rps[s, "conflux"] / rps[b, "conflux"]
                tl[++lines] = sprintf("- %s: throughput >= 0.6x pure pass-through (%s): %s (%.2fx: %d vs %d req/s)", s, b, verdict(r >= 0.6), r, rps[s, "conflux"], rps[b, "conflux"])
            }
        }
        if (s ~ /-2cpu$/) {
            b = substr(s, 1, length(s) - 5)
            if (b in scale) tl[++lines] = sprintf("- %s: 2 cores >= 1.8x the 1-core throughput: %s (%.2fx)", b, verdict(scale[b] >= 1.8), scale[b])
            continue
        }
        if (s !~ /^get-/ && s !~ /^idiom-/) continue
        if (has(s, "conflux") && has(s, "nginx")) {
            r = cpu[s, "conflux"] / cpu[s, "nginx"]
            tl[++lines] = sprintf("- %s: CPU per request <= 0.8x nginx: %s (%.2fx: %.2f vs %.2f CPU-s/100k)", s, verdict(r <= 0.8), r, cpu[s, "conflux"], cpu[s, "nginx"])
            r = rps[s, "conflux"] / rps[s, "nginx"]
            tl[++lines] = sprintf("- %s: throughput >= 1.0x nginx: %s (%.2fx: %d vs %d req/s)", s, verdict(r >= 1.0), r, rps[s, "conflux"], rps[s, "nginx"])
        }
        if (s ~ /-c50$/ && has(s, "conflux") && has(s, "direct")) {
            r = p99[s, "conflux"] - p99[s, "direct"]
            tl[++lines] = sprintf("- %s: p99 added over direct <= 1 ms: %s (%+.2f ms: %.2f vs %.2f ms)", s, verdict(r <= 1.0), r, p99[s, "conflux"], p99[s, "direct"])
        }
        if (layout == "B" && has(s, "conflux") && has(s, "nginx") && has(s, "direct")) {
            r = p99[s, "conflux"] - p99[s, "direct"]; q = p99[s, "nginx"] - p99[s, "direct"]
            tl[++lines] = sprintf("- %s: p99 added over direct <= nginx's (layout B): %s (%+.2f ms vs %+.2f ms)", s, verdict(r <= q), r, q)
        }
        if (s ~ /^get-.*-c500$/ && has(s, "conflux")) {
            tl[++lines] = sprintf("- %s: Conflux RSS <= 64 MB: %s (peak %.1f MB)", s, verdict(rss[s, "conflux"] <= 65536), rss[s, "conflux"] / 1024)
        }
    }
    if (lines) {
        print ""
        print "Targets (issue 7: get-*; issue 22: idiom-*, cbr-*, 2 cores), load:"
        print ""
        for (i = 1; i <= lines; i++) print tl[i]
    }
}
