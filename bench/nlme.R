# Times nlme on an AR1 benchmark CSV: `Rscript bench/nlme.R DATA.csv gls|lme`.
# Prints one JSON line: read and fit seconds, logLik. Run under /usr/bin/time for memory.
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(nlme))
t0 <- proc.time()[["elapsed"]]
d <- read.csv(args[1], stringsAsFactors = TRUE)
d <- d[order(d$subject, d$time), ]
t1 <- proc.time()[["elapsed"]]
fit <- if (args[2] == "gls") {
  gls(y ~ time + x1 + grp, correlation = corAR1(form = ~ 1 | subject), data = d, method = "REML")
} else {
  lme(y ~ time + x1 + grp, random = ~ 1 | subject, correlation = corAR1(form = ~ 1 | subject), data = d, method = "REML")
}
t2 <- proc.time()[["elapsed"]]
cat(sprintf('{"read_s": %.3f, "fit_s": %.3f, "logLik": %.6f, "nlme": "%s"}\n', t1 - t0, t2 - t1, as.numeric(logLik(fit)), as.character(packageVersion("nlme"))))
