# nlme's gls for bench/structures.ts: the same Sitka models, median of 3 fits, default controls;
# then the panel's UN over 12 occasions (gls) and varIdent over 60 strata (lme, random intercept).
suppressPackageStartupMessages(library(nlme))
s <- read.csv("assets/examples/sitka.csv", stringsAsFactors = TRUE)
s$tree <- factor(s$tree); s <- s[order(s$tree, s$time), ]
s$occasion <- match(s$time, sort(unique(s$time))); s$time_f <- factor(s$time)
m <- list(
  AR1 = function() gls(size ~ time * treat, correlation = corAR1(form = ~ 1 | tree), data = s),
  CS = function() gls(size ~ time * treat, correlation = corCompSymm(form = ~ 1 | tree), data = s),
  ARH1 = function() gls(size ~ time * treat, correlation = corAR1(form = ~ 1 | tree), weights = varIdent(form = ~ 1 | time_f), data = s),
  CSH = function() gls(size ~ time * treat, correlation = corCompSymm(form = ~ 1 | tree), weights = varIdent(form = ~ 1 | time_f), data = s),
  ARMA11 = function() gls(size ~ time * treat, correlation = corARMA(form = ~ occasion | tree, p = 1, q = 1), data = s),
  EXP = function() gls(size ~ time * treat, correlation = corExp(form = ~ time | tree), data = s),
  EXPnug = function() gls(size ~ time * treat, correlation = corExp(form = ~ time | tree, nugget = TRUE), data = s),
  GAUS = function() gls(size ~ time * treat, correlation = corGaus(form = ~ time | tree), data = s),
  UN = function() gls(size ~ time * treat, correlation = corSymm(form = ~ occasion | tree), weights = varIdent(form = ~ 1 | occasion), data = s),
  AR1.varExp = function() gls(size ~ time * treat, correlation = corAR1(form = ~ 1 | tree), weights = varComb(varIdent(form = ~ 1 | treat), varExp(form = ~ time)), data = s)
)
# The panel of bench/structures.ts (written there before this runs).
p <- read.csv("bench/out/panel-80x12.csv", stringsAsFactors = TRUE)
p$g <- factor(p$g); p <- p[order(p$g, p$time), ]
p$occasion <- p$time + 1; p$time_f <- factor(p$time)
m$UN12x80 <- function() gls(y ~ time, correlation = corSymm(form = ~ occasion | g), weights = varIdent(form = ~ 1 | time_f), data = p)
# nlme's default control stops at its iteration limit here ("iteration limit reached"): more iterations.
m$varIdent60.RI <- function() lme(y ~ time, random = ~ 1 | g, weights = varIdent(form = ~ 1 | h), data = p,
                                  control = lmeControl(maxIter = 1000, msMaxIter = 1000))
for (k in names(m)) {
  f <- tryCatch(m[[k]](), error = function(e) NULL)
  if (is.null(f)) next
  t <- sapply(1:3, function(i) system.time(m[[k]]())[["elapsed"]])
  cat(k, sprintf("%.1f", 1000 * median(t)), sprintf("%.4f", as.numeric(logLik(f))), "\n")
}
