# nlme's fits of bench/ar1-structures.ts's models on a longitudinal CSV (y, time, x1, grp, subject):
# `Rscript bench/nlme-panel.R DATA.csv NAME...`. One fit per model (REML, default controls), each
# stopped after LIMIT seconds; prints "NAME seconds logLik", or "NAME timeout" / "NAME error" /
# "NAME none" (no nlme equivalent: nlme has no Toeplitz correlation).
suppressPackageStartupMessages(library(nlme))
LIMIT <- 60
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
d <- d[order(d$subject, d$time), ]
d$visit <- d$time + 1
d$occasion <- match(d$time, sort(unique(d$time)))
d$time_f <- factor(d$time)
f <- y ~ time + x1 + grp
g <- function(cor = NULL, w = NULL) function() gls(f, correlation = cor, weights = w, data = d, method = "REML")
l <- function(cor = NULL, w = NULL) function() lme(f, random = ~ 1 | subject, correlation = cor, weights = w, data = d, method = "REML")
byOcc <- varIdent(form = ~ 1 | time_f)
m <- list(
  AR1 = g(corAR1(form = ~ 1 | subject)),
  AR1.RI = l(corAR1(form = ~ 1 | subject)),
  CS = g(corCompSymm(form = ~ 1 | subject)),
  CAR1 = g(corCAR1(form = ~ time | subject)),
  ARH1 = g(corAR1(form = ~ 1 | subject), byOcc),
  CSH = g(corCompSymm(form = ~ 1 | subject), byOcc),
  UN = g(corSymm(form = ~ occasion | subject), byOcc),
  ARMA11 = g(corARMA(form = ~ occasion | subject, p = 1, q = 1)),
  ARMA21 = g(corARMA(form = ~ occasion | subject, p = 2, q = 1)),
  EXP = g(corExp(form = ~ time | subject)), EXPnug = g(corExp(form = ~ time | subject, nugget = TRUE)),
  GAUS = g(corGaus(form = ~ time | subject)), GAUSnug = g(corGaus(form = ~ time | subject, nugget = TRUE)),
  SPHER = g(corSpher(form = ~ time | subject)), SPHERnug = g(corSpher(form = ~ time | subject, nugget = TRUE)),
  LIN = g(corLin(form = ~ time | subject)), LINnug = g(corLin(form = ~ time | subject, nugget = TRUE)),
  RATIO = g(corRatio(form = ~ time | subject)), RATIOnug = g(corRatio(form = ~ time | subject, nugget = TRUE)),
  varIdent = g(NULL, varIdent(form = ~ 1 | grp)),
  varPower = g(NULL, varPower(form = ~ visit)),
  varExp = g(NULL, varExp(form = ~ time)),
  varConstPower = g(NULL, varConstPower(form = ~ visit)),
  RI.varIdent = l(NULL, varIdent(form = ~ 1 | grp)),
  AR1.varIdent.varExp = g(corAR1(form = ~ 1 | subject), varComb(varIdent(form = ~ 1 | grp), varExp(form = ~ time))),
  CS.varIdent = g(corCompSymm(form = ~ 1 | subject), varIdent(form = ~ 1 | grp)),
  ARH1.RI = l(corAR1(form = ~ 1 | subject), byOcc),
  EXPnug.RI = l(corExp(form = ~ time | subject, nugget = TRUE)),
  AR1.varExp.x1 = g(corAR1(form = ~ 1 | subject), varExp(form = ~ x1))
)
for (k in args[-1]) {
  if (is.null(m[[k]])) { cat(k, "none\n"); next }
  t0 <- proc.time()[["elapsed"]]
  setTimeLimit(elapsed = LIMIT, transient = TRUE)
  fit <- tryCatch(m[[k]](), error = function(e) if (grepl("time limit", conditionMessage(e))) "timeout" else "error")
  setTimeLimit(elapsed = Inf)
  if (is.character(fit)) { cat(k, fit, "\n"); next }
  cat(k, sprintf("%.3f", proc.time()[["elapsed"]] - t0), sprintf("%.4f", as.numeric(logLik(fit))), "\n")
}
