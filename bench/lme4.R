# Times lme4 on a benchmark CSV: `Rscript bench/lme4.R DATA.csv "FORMULA" REML|ML`.
# Prints one JSON line: read and fit seconds, logLik, lme4 version. Run under /usr/bin/time for memory.
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(lme4))
t0 <- proc.time()[["elapsed"]]
d <- read.csv(args[1], stringsAsFactors = TRUE)
t1 <- proc.time()[["elapsed"]]
fit <- lmer(as.formula(args[2]), data = d, REML = (args[3] == "REML"))
t2 <- proc.time()[["elapsed"]]
cat(sprintf('{"read_s": %.3f, "fit_s": %.3f, "logLik": %.6f, "lme4": "%s", "warnings": %d}\n',
            t1 - t0, t2 - t1, as.numeric(logLik(fit)), as.character(packageVersion("lme4")),
            length(fit@optinfo$conv$lme4$messages)))
