# Times Kenward-Roger in R on a benchmark CSV: `Rscript bench/pbkrtest.R DATA.csv "FORMULA"`.
# lmerTest's summary with ddf = "Kenward-Roger" (pbkrtest's vcovAdj and its df) after a REML lmer
# fit. Prints one JSON line: fit and KR seconds, the KR SEs and df, versions.
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages({ library(lmerTest); library(pbkrtest) })
d <- read.csv(args[1], stringsAsFactors = TRUE)
t0 <- proc.time()[["elapsed"]]
fit <- lmer(as.formula(args[2]), data = d, REML = TRUE)
t1 <- proc.time()[["elapsed"]]
cf <- summary(fit, ddf = "Kenward-Roger")$coefficients
t2 <- proc.time()[["elapsed"]]
cat(sprintf('{"fit_s": %.3f, "kr_s": %.3f, "se": [%s], "df": [%s], "pbkrtest": "%s"}\n',
            t1 - t0, t2 - t1, paste(sprintf("%.10g", cf[, "Std. Error"]), collapse = ", "),
            paste(sprintf("%.10g", cf[, "df"]), collapse = ", "), as.character(packageVersion("pbkrtest"))))
