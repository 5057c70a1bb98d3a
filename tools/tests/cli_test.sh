#!/usr/bin/env bash
# End-to-end tests of gaussmix-fit, gaussmix-predict and gaussmix-sample, one case per ctest test.
# usage: cli_test.sh CASE BIN_DIR FAITHFUL_CSV TESTS_DATA_DIR WORK_DIR
set -u

case_name=$1
bin=$2
faithful=$3
data=$4
work=$5
fit="$bin/gaussmix-fit"
predict="$bin/gaussmix-predict"
sample="$bin/gaussmix-sample"

rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1

fail() {
  echo "FAIL [$case_name]: $*" >&2
  exit 1
}

# run CMD...: runs it with stdout in out.txt, stderr in err.txt, exit code in $rc.
run() {
  "$@" >out.txt 2>err.txt
  rc=$?
}

# expect_ok CMD...: must exit 0.
expect_ok() {
  run "$@"
  [[ $rc == 0 ]] || fail "'$*' exited $rc; stderr: $(cat err.txt)"
}

# expect_error CODE TEXT CMD...: must exit CODE with stderr starting "<program>: " and holding TEXT.
expect_error() {
  local code=$1 text=$2
  shift 2
  run "$@"
  [[ $rc == "$code" ]] || fail "'$*' exited $rc, expected $code; stderr: $(cat err.txt)"
  local program
  program=$(basename "$1")
  [[ $(head -n 1 err.txt) == "$program: "* ]] || fail "'$*': stderr does not start with '$program: ': $(cat err.txt)"
  grep -qF -- "$text" err.txt || fail "'$*': stderr lacks '$text'; it was: $(cat err.txt)"
  echo "ok: exit $rc: $(head -n 1 err.txt)"
}

# check_predictions FILE ROWS K: header label,p0..p<K-1>, ROWS rows, probabilities in [0, 1]
# summing to 1 per row, label = the most probable component.
check_predictions() {
  local file=$1 rows=$2 K=$3
  local header="label"
  for ((k = 0; k < K; ++k)); do header+=",p$k"; done
  [[ $(head -n 1 "$file") == "$header" ]] || fail "$file: header is '$(head -n 1 "$file")', expected '$header'"
  local lines
  lines=$(wc -l <"$file")
  [[ $lines == $((rows + 1)) ]] || fail "$file: $lines lines, expected $rows rows + a header"
  awk -F, -v K="$K" 'NR > 1 {
      if (NF != K + 1) { print "line " NR ": " NF " fields"; bad = 1; exit }
      sum = 0; best = 0
      for (i = 2; i <= NF; ++i) {
        if ($i < 0 || $i > 1) { print "line " NR ": probability " $i; bad = 1; exit }
        sum += $i
        if ($i > $(best + 2)) best = i - 2
      }
      if (sum < 1 - 1e-9 || sum > 1 + 1e-9) { printf "line %d: probabilities sum to %.17g\n", NR, sum; bad = 1; exit }
      if ($1 !~ /^[0-9]+$/ || $1 >= K || $($1 + 2) < $(best + 2)) { print "line " NR ": label " $1 " is not the most probable"; bad = 1; exit }
    }
    END { exit bad }' "$file" || fail "$file: bad predictions (above)"
}

case $case_name in
  fit_predict)
    [[ -f $faithful ]] || fail "no data file $faithful"
    expect_ok "$fit" "$faithful" -k 2 --covariance full --seed 1 -o model.json
    cp out.txt summary.txt
    grep -q "K = 2 components, full covariance" summary.txt || fail "summary lacks the model line: $(cat summary.txt)"
    grep -q "272 rows x 2 columns (eruptions, waiting)" summary.txt || fail "summary lacks the data line"
    grep -qE "^converged: +yes" summary.txt || fail "summary lacks 'converged: yes'"
    grep -qE "^BIC: +[0-9.]+" summary.txt || fail "summary lacks the BIC"
    grep -qE "^log-likelihood: +-[0-9.]+" summary.txt || fail "summary lacks the log-likelihood"
    [[ $(grep -cE "^ +[0-9]+  0\.[0-9]+ " summary.txt) == 2 ]] || fail "summary does not list 2 components"
    grep -q "model written to model.json" summary.txt || fail "summary does not name the model file"
    grep -q '"format": "gaussmix-model"' model.json || fail "model.json lacks the format field"
    grep -q '"n_components": 2' model.json || fail "model.json lacks n_components = 2"
    grep -q "iteration" err.txt || fail "no progress on stderr"
    expect_ok "$predict" model.json "$faithful" -o predictions.csv
    check_predictions predictions.csv 272 2
    expect_ok "$predict" model.json "$faithful" --log-density
    [[ $(head -n 1 out.txt) == "label,p0,p1,log_density" ]] || fail "--log-density header: $(head -n 1 out.txt)"
    [[ $(wc -l <out.txt) == 273 ]] || fail "predictions on stdout: $(wc -l <out.txt) lines"
    # the same seed gives the same model, bit for bit
    expect_ok "$fit" "$faithful" -k 2 --seed 1 -q -o model2.json
    [[ ! -s err.txt ]] || fail "--quiet still printed: $(cat err.txt)"
    cmp -s model.json model2.json || fail "the same seed gave another model"
    ;;

  k_range)
    expect_ok "$fit" "$faithful" -k 1:4 --seed 1 -o best.json
    grep -q "Model selection by BIC" out.txt || fail "no selection table: $(cat out.txt)"
    [[ $(grep -cE "^ +[1-4]  full " out.txt) == 4 ]] || fail "the table does not have K = 1..4"
    [[ $(grep -c "<- best" out.txt) == 1 ]] || fail "not exactly one best row"
    best=$(grep "<- best" out.txt | awk '{print $1}')
    grep -q "K = $best components" out.txt || fail "the summary is not for the best K = $best"
    grep -q "\"n_components\": $best" best.json || fail "best.json is not the K = $best model"
    [[ $(grep -c "iteration" err.txt) -ge 4 ]] || fail "expected a progress line per K: $(cat err.txt)"
    # several covariance types are compared too
    expect_ok "$fit" "$faithful" -k 1:2 --covariance full,diag -q
    [[ $(grep -cE "^ +[12]  (full|diag) " out.txt) == 4 ]] || fail "the table does not have 2 K x 2 types"
    ;;

  plot)
    expect_ok "$fit" "$faithful" -k 2 --seed 1 --plot plot.svg -q
    [[ -s plot.svg ]] || fail "no plot.svg"
    if command -v xmllint >/dev/null; then
      xmllint --noout plot.svg || fail "plot.svg is not well-formed XML"
    fi
    head -n 2 plot.svg | grep -q '<svg xmlns="http://www.w3.org/2000/svg"' || fail "plot.svg has no <svg> root"
    tail -n 1 plot.svg | grep -q '</svg>' || fail "plot.svg does not end with </svg>"
    [[ $(grep -c "<circle " plot.svg) -ge 272 ]] || fail "plot.svg has fewer than 272 points"
    [[ $(grep -c 'stroke-dasharray="7 4"/>' plot.svg) == 3 ]] || fail "expected 2 dashed 2-sigma ellipses + 1 in the legend"
    grep -q ">eruptions</text>" plot.svg || fail "no x-axis label"
    grep -q ">waiting</text>" plot.svg || fail "no y-axis label"
    grep -q "plot written to plot.svg" out.txt || fail "the summary does not name the plot"
    # the first two chosen columns of wider data; one column cannot be plotted
    expect_ok "$sample" "$data/first_seed_model.json" -n 300 --seed 2 --labels -o three.csv
    expect_ok "$fit" three.csv -k 2 --plot three.svg -q
    grep -q "marginal ellipses" three.svg || fail "three.svg does not say it shows marginals"
    expect_error 1 "--plot needs two columns" "$fit" "$faithful" -k 2 --columns waiting --plot one.svg
    ;;

  sample_fit)
    expect_ok "$sample" "$data/first_seed_model.json" -n 1000 --seed 1 -o first_seed.csv
    [[ $(head -n 1 first_seed.csv) == "x0,x1" ]] || fail "sample header: $(head -n 1 first_seed.csv)"
    [[ $(wc -l <first_seed.csv) == 1001 ]] || fail "sample rows: $(wc -l <first_seed.csv)"
    expect_ok "$fit" first_seed.csv -k 2 --seed 1 -q
    # the weights are found again: about 0.3 and 0.7
    weights=$(grep -E "^ +[01]  0\.[0-9]+ " out.txt | awk '{print $2}' | sort -n | tr '\n' ' ')
    awk -v w="$weights" 'BEGIN { split(w, a, " "); exit !(a[1] > 0.22 && a[1] < 0.38 && a[2] > 0.62 && a[2] < 0.78) }' ||
      fail "fitted weights $weights are not near 0.3 and 0.7"
    ;;

  online)
    # --online streams the CSV through partial_fit in batches; standard input gives the same model.
    expect_ok "$fit" "$faithful" -k 2 --seed 1 --online 50 -o online.json
    grep -q "272 rows x 2 columns (eruptions, waiting), streamed" out.txt || fail "online summary: $(cat out.txt)"
    grep -q "6 partial_fit updates of up to 50 rows" out.txt || fail "online summary lacks the updates: $(cat out.txt)"
    grep -q "online, batch 4, 200 rows" err.txt || fail "no online progress on stderr: $(cat err.txt)"
    grep -q '"online_state"' online.json || fail "online.json lacks the online state"
    # the two clusters are found: weights about 0.36 and 0.64 (the batch fit's 0.356 / 0.644)
    weights=$(grep -E "^ +[01]  0\.[0-9]+ " out.txt | awk '{print $2}' | sort -n | tr '\n' ' ')
    awk -v w="$weights" 'BEGIN { split(w, a, " "); exit !(a[1] > 0.31 && a[1] < 0.41 && a[2] > 0.59 && a[2] < 0.69) }' ||
      fail "online weights $weights are not about 0.36 / 0.64"
    run "$fit" - -k 2 --seed 1 --online 50 -q -o online_stdin.json <"$faithful"
    [[ $rc == 0 ]] || fail "--online from stdin exited $rc: $(cat err.txt)"
    cmp -s online.json online_stdin.json || fail "--online: standard input gave another model than the file"
    expect_ok "$predict" online.json "$faithful" -o online_predictions.csv
    check_predictions online_predictions.csv 272 2
    expect_error 1 "--online fits one K" "$fit" "$faithful" -k 2:3 --online 50
    expect_error 1 "cannot --plot" "$fit" "$faithful" -k 2 --online 50 --plot x.svg
    expect_error 1 "at least K = 3 rows" "$fit" "$faithful" -k 3 --online 2
    printf 'x,y\n1,2\n' >one_row.csv
    expect_error 1 "too few for K = 2" "$fit" one_row.csv -k 2 --online 10
    printf 'x,y\n1,2\n3,4\n5\n' >ragged.csv
    expect_error 1 "line 4 has 1 field" "$fit" ragged.csv -k 1 --online 10
    ;;

  bayesian)
    # --bayesian: a variational fit with K = 6 at most; the summary lists the components it keeps.
    expect_ok "$fit" "$faithful" -k 6 --bayesian --seed 1 --max-iter 1000 -o bayes.json
    cp out.txt summary.txt
    grep -q "Bayesian (variational), K = 6 components at most, full covariance, dirichlet_process weight prior" \
      summary.txt || fail "summary lacks the model line: $(cat summary.txt)"
    grep -qE "^converged: +yes" summary.txt || fail "summary lacks 'converged: yes': $(cat summary.txt)"
    grep -qE "^lower bound: +-[0-9.]+" summary.txt || fail "summary lacks the lower bound"
    active=$(sed -nE 's/^active: +([0-9]+) of 6 components \(weight > 0\.01\)$/\1/p' summary.txt)
    [[ -n $active && $active -ge 2 && $active -lt 6 ]] || fail "summary: expected 2 to 5 active of 6: $(cat summary.txt)"
    [[ $(grep -cE "^ +[0-5]  0\.[0-9]+ " summary.txt) == "$active" ]] || fail "summary does not list the $active active components"
    grep -q "model written to bayes.json" summary.txt || fail "summary does not name the model file"
    grep -q '"format": "gaussmix-bayesian-model"' bayes.json || fail "bayes.json lacks the Bayesian format"
    grep -q '"weight_prior": "dirichlet_process"' bayes.json || fail "bayes.json lacks the weight prior"
    grep -q "iteration" err.txt || fail "no progress on stderr"
    # gaussmix-predict and gaussmix-sample read it
    expect_ok "$predict" bayes.json "$faithful" -o bayes_predictions.csv
    check_predictions bayes_predictions.csv 272 6
    expect_ok "$predict" bayes.json "$faithful" --log-density
    [[ $(head -n 1 out.txt) == "label,p0,p1,p2,p3,p4,p5,log_density" ]] || fail "--log-density header: $(head -n 1 out.txt)"
    expect_ok "$sample" bayes.json -n 50 --seed 3 -o bayes_sample.csv
    [[ $(wc -l <bayes_sample.csv) == 51 ]] || fail "sample from bayes.json: $(wc -l <bayes_sample.csv) lines"
    # the same seed gives the same model bit for bit; the Dirichlet distribution prior; the other types
    expect_ok "$fit" "$faithful" -k 6 --seed 1 --max-iter 1000 -q --bayesian dp -o bayes2.json
    cmp -s bayes.json bayes2.json || fail "the same seed gave another Bayesian model"
    expect_ok "$fit" "$faithful" -k 4 --bayesian dirichlet --covariance diag -q -o dirichlet.json
    grep -q "dirichlet_distribution weight prior" out.txt || fail "--bayesian dirichlet: $(cat out.txt)"
    grep -q '"weight_prior": "dirichlet_distribution"' dirichlet.json || fail "dirichlet.json lacks its prior"
    expect_ok "$predict" dirichlet.json "$faithful" -o dirichlet_predictions.csv
    check_predictions dirichlet_predictions.csv 272 4
    expect_ok "$fit" "$faithful" -k 3 --bayesian --covariance tied -q --plot bayes.svg
    [[ -s bayes.svg ]] || fail "no bayes.svg"
    # what --bayesian refuses
    expect_error 1 "--bayesian fits one K" "$fit" "$faithful" -k 2:4 --bayesian
    expect_error 1 "--bayesian fits one covariance type" "$fit" "$faithful" -k 3 --bayesian --covariance full,diag
    expect_error 1 "--bayesian and --online cannot be combined" "$fit" "$faithful" -k 3 --bayesian --online 50
    expect_error 2 "--bayesian: dpp not in {dp,dirichlet}" "$fit" "$faithful" -k 3 --bayesian dpp
    expect_error 1 "too few for K = 3" "$fit" <(printf 'x,y\n1,2\n3,4\n') -k 3 --bayesian
    # a damaged Bayesian file is named
    sed 's/"mean_precision": \[/"mean_precision": [-1, /' bayes.json >bad_bayes.json
    expect_error 1 "bad_bayes.json: cannot load the model: \"mean_precision\"" "$predict" bad_bayes.json "$faithful"
    ;;

  stdin_and_formats)
    # CRLF line ends, a byte-order mark, quoted header fields, blank lines, spaces around cells
    printf '\xEF\xBB\xBF"first, x",second,"third ""z"""\r\n1,2,3\r\n\r\n 4 , 5 ,6\r\n7,"8",9\r\n10,11,12\r\n' >crlf.csv
    run "$fit" crlf.csv -k 1 -q --columns 0,2
    [[ $rc == 0 ]] || fail "crlf.csv --columns 0,2: $(cat err.txt)"
    grep -q "4 rows x 2 columns (first, x, third \"z\")" out.txt || fail "crlf.csv columns: $(cat out.txt)"
    run "$fit" crlf.csv -k 1 -q --columns second
    [[ $rc == 0 ]] || fail "crlf.csv --columns second: $(cat err.txt)"
    grep -q "4 rows x 1 columns (second)" out.txt || fail "crlf.csv by name: $(cat out.txt)"
    # no header, semicolons, standard input
    printf '1;2\n3;4.5\n-1e1;+6\n' >semi.csv
    run "$fit" - -k 1 -q --delimiter ';' <semi.csv
    [[ $rc == 0 ]] || fail "stdin: $(cat err.txt)"
    grep -q "<stdin>, 3 rows x 2 columns (column 0, column 1)" out.txt || fail "stdin: $(cat out.txt)"
    # tab-separated with --header forced, a lone-CR file
    printf 'a\tb\n1\t2\n3\t4\n' >tabs.tsv
    run "$fit" tabs.tsv -k 1 -q --delimiter tab
    grep -q "2 rows x 2 columns (a, b)" out.txt || fail "tabs: $(cat out.txt) $(cat err.txt)"
    printf 'a,b\r1,2\r3,5\r' >cr.csv
    run "$fit" cr.csv -k 1 -q
    grep -q "2 rows x 2 columns (a, b)" out.txt || fail "CR line ends: $(cat out.txt) $(cat err.txt)"
    # a quoted field across lines is one cell; an unclosed quote is an error
    printf 'a,b\n1,"2"\n"3",4\n' >quoted.csv
    run "$fit" quoted.csv -k 1 -q
    grep -q "2 rows x 2 columns" out.txt || fail "quoted numbers: $(cat out.txt) $(cat err.txt)"
    printf 'a,b\n1,2\n"3,4\n5,6\n' >open.csv
    expect_error 1 "open.csv: line 3: a quoted field is not closed" "$fit" open.csv -k 1
    printf 'a,b\n1,"2"x\n' >afterquote.csv
    expect_error 1 "line 2, field 2: unexpected 'x' after a closing quote" "$fit" afterquote.csv -k 1
    ;;

  missing_file)
    expect_error 1 "gaussmix-fit: no/such/data.csv: no such file" "$fit" no/such/data.csv -k 2
    expect_error 1 "is a directory" "$fit" . -k 2
    expect_error 1 "gaussmix-predict: no/such/model.json: no such file" "$predict" no/such/model.json "$faithful"
    expect_ok "$fit" "$faithful" -k 2 -q -o model.json
    expect_error 1 "gaussmix-predict: no/such/data.csv: no such file" "$predict" model.json no/such/data.csv
    expect_error 1 "no/such/dir/model.json: cannot open the file for writing" "$fit" "$faithful" -k 2 -q -o no/such/dir/model.json
    ;;

  non_numeric)
    printf 'eruptions,waiting\n3.6,79\n1.8,54\n3.333,abc\n2.283,62\n' >bad.csv
    expect_error 1 "bad.csv: line 4, column 2 ('waiting'): 'abc' is not a finite number" "$fit" bad.csv -k 1
    printf 'eruptions,waiting\n3.6,79\n1.8,\n' >empty.csv
    expect_error 1 "empty.csv: line 3, column 2 ('waiting'): is empty" "$fit" empty.csv -k 1
    printf '3.6,79\n1.8,54\nnan,62\n' >nan.csv
    expect_error 1 "nan.csv: line 3, column 1: 'nan' is not a finite number" "$fit" nan.csv -k 1
    printf '3.6,79\n1.8,54\n1e999,62\n' >huge.csv
    expect_error 1 "huge.csv: line 3, column 1: '1e999' is not a finite number" "$fit" huge.csv -k 1
    # a column that is not chosen may hold text
    printf 'name,x,y\na,1,2\nb,3,4\nc,5,7\n' >names.csv
    expect_ok "$fit" names.csv -k 1 -q --columns x,y
    expect_error 1 "names.csv: line 2, column 1 ('name'): 'a' is not a finite number" "$fit" names.csv -k 1
    expect_ok "$fit" "$faithful" -k 2 -q -o model.json
    expect_error 1 "bad.csv: line 4, column 2 ('waiting'): 'abc' is not a finite number" "$predict" model.json bad.csv
    ;;

  ragged)
    printf 'eruptions,waiting\n3.6,79\n1.8,54,7\n3.333,74\n' >ragged.csv
    expect_error 1 "ragged.csv: line 3 has 3 fields, but line 1 has 2 (ragged rows)" "$fit" ragged.csv -k 1
    printf '3.6,79\n1.8\n' >short.csv
    expect_error 1 "short.csv: line 2 has 1 field, but line 1 has 2 (ragged rows)" "$fit" short.csv -k 1
    ;;

  too_few_rows)
    printf 'x,y\n1,2\n3,4\n' >two.csv
    expect_error 1 "two.csv: 2 data rows are too few for K = 3 components" "$fit" two.csv -k 3
    expect_error 1 "two.csv: 2 data rows are too few for K = 5 components" "$fit" two.csv -k 1:5
    printf 'x,y\n' >header_only.csv
    expect_error 1 "header_only.csv: the file has a header but no data rows" "$fit" header_only.csv -k 1
    : >empty.csv
    expect_error 1 "empty.csv: the file has no data" "$fit" empty.csv -k 1
    ;;

  numerical)
    # five identical rows form a component with a zero covariance unless reg_covar is added
    printf 'x,y\n1,1\n1,1\n1,1\n1,1\n1,1\n5,6\n7,5\n6,8\n8,7\n5,9\n' >degenerate.csv
    expect_error 1 "not positive definite" "$fit" degenerate.csv -k 2 --reg-covar 0 -q
    grep -qF -- "(here: --reg-covar, now 0)" err.txt || fail "no --reg-covar hint: $(cat err.txt)"
    expect_ok "$fit" degenerate.csv -k 2 -q
    # --prior: MAP EM fits the same data without reg_covar, and says so in the summary
    expect_ok "$fit" degenerate.csv -k 2 --reg-covar 0 --prior -q
    grep -qE "^prior: +conjugate \(MAP EM" out.txt || fail "summary lacks the prior line: $(cat out.txt)"
    grep -qE "^log posterior: +per sample -?[0-9.]+" out.txt || fail "summary lacks the log posterior: $(cat out.txt)"
    expect_ok "$fit" degenerate.csv -k 2 --reg-covar 0 --prior --prior-shrinkage 0.5 -q
    grep -qE "^prior: +conjugate \(MAP EM, Fraley & Raftery 2007\), shrinkage 0.5" out.txt ||
      fail "summary lacks the given shrinkage: $(cat out.txt)"
    expect_error 1 "--prior-shrinkage needs --prior" "$fit" degenerate.csv -k 2 --prior-shrinkage 0.5 -q
    ;;

  bad_flags)
    expect_error 2 "--no-such-flag" "$fit" "$faithful" -k 2 --no-such-flag
    expect_error 2 "-k must be a positive integer" "$fit" "$faithful" -k 0
    expect_error 2 "-k range A:B needs A <= B" "$fit" "$faithful" -k 5:2
    expect_error 2 "-k range must be A:B" "$fit" "$faithful" -k 1:x
    expect_error 2 "--components" "$fit" "$faithful"
    expect_error 2 "data is required" "$fit" -k 2
    expect_error 2 "--covariance" "$fit" "$faithful" -k 2 --covariance diagonal
    expect_error 2 "--tol: must be >= 0, got -1" "$fit" "$faithful" -k 2 --tol -1
    expect_error 2 "--reg-covar: 'nan' is not a finite number" "$fit" "$faithful" -k 2 --reg-covar nan
    expect_error 2 "--max-iter: must be >= 1, got 0" "$fit" "$faithful" -k 2 --max-iter 0
    expect_error 2 "--init" "$fit" "$faithful" -k 2 --init kmeans++
    expect_error 2 "--header excludes --no-header" "$fit" "$faithful" -k 2 --header --no-header
    expect_error 2 "--delimiter: must be one character" "$fit" "$faithful" -k 2 --delimiter ';;'
    expect_error 1 "has no column named 'nosuch'; its columns are: eruptions, waiting" "$fit" "$faithful" -k 2 --columns nosuch
    expect_error 1 "column index 5 is out of range" "$fit" "$faithful" -k 2 --columns 0,5
    expect_error 1 "is chosen twice" "$fit" "$faithful" -k 2 --columns 0,eruptions
    expect_error 1 "--covariance: 'full' is given twice" "$fit" "$faithful" -k 2 --covariance full,full
    expect_error 2 "--samples" "$sample" "$data/first_seed_model.json"
    # --help documents every flag
    expect_ok "$fit" --help
    for flag in --components --covariance --seed --n-init --init --max-iter --tol --reg-covar --output --plot \
      --bayesian --prior --prior-shrinkage --columns --header --no-header --delimiter --quiet --verbose --version; do
      grep -qF -- "$flag" out.txt || fail "gaussmix-fit --help does not document $flag"
    done
    expect_ok "$predict" --help
    for flag in --output --log-density --columns --header --no-header --delimiter; do
      grep -qF -- "$flag" out.txt || fail "gaussmix-predict --help does not document $flag"
    done
    expect_ok "$fit" --version
    ;;

  bad_model)
    expect_ok "$fit" "$faithful" -k 2 -q -o model.json
    head -c 100 model.json >truncated.json
    expect_error 1 "truncated.json: cannot load the model: not a valid JSON document" "$predict" truncated.json "$faithful"
    sed 's/gaussmix-model/other-model/' model.json >other.json
    expect_error 1 "other.json: cannot load the model: \"format\" is \"other-model\"" "$predict" other.json "$faithful"
    printf 'a,b,c\n1,2,3\n4,5,6\n' >three.csv
    expect_error 1 "3 columns are chosen, but the model has 2 features" "$predict" model.json three.csv
    expect_ok "$predict" model.json three.csv --columns a,c
    check_predictions out.txt 2 2
    ;;

  missing)
    # Old Faithful with holes: every 5th line without waiting (NA or empty), every 7th without eruptions (NaN).
    awk -F, -v OFS=, 'NR == 1 { print; next }
      { if (NR % 5 == 0) $2 = (NR % 2 ? "NA" : ""); else if (NR % 7 == 0) $1 = "NaN"; print }' "$faithful" >holes.csv
    expect_error 1 "line 5, column 2 ('waiting'): 'NA' is not a finite number" "$fit" holes.csv -k 2 -q
    expect_ok "$fit" holes.csv -k 2 --seed 1 --missing -q -o model.json
    grep -q '"missing": "marginalise"' model.json || fail "model.json does not record options.missing"
    expect_ok "$fit" holes.csv -k 1:3 --missing -q
    grep -q "Model selection by BIC" out.txt || fail "--missing with a K range: no selection table"
    expect_error 1 "--missing cannot be combined with --plot" "$fit" holes.csv -k 2 --missing --plot p.svg
    expect_ok "$predict" model.json holes.csv -o predictions.csv
    check_predictions predictions.csv 272 2
    expect_ok "$predict" model.json holes.csv --impute -o completed.csv
    [[ $(head -n 1 completed.csv) == "eruptions,waiting" ]] || fail "--impute header: $(head -n 1 completed.csv)"
    [[ $(wc -l <completed.csv) == 273 ]] || fail "--impute: $(wc -l <completed.csv) lines"
    # observed cells come back as they were, missing ones as numbers in the data's range
    paste -d, holes.csv completed.csv | awk -F, 'NR > 1 {
        for (j = 1; j <= 2; ++j) {
          if ($j == "" || $j == "NA" || $j == "NaN") { if (!($(j + 2) > 1 && $(j + 2) < 100)) { print "line " NR; bad = 1 } }
          else if ($j + 0 != $(j + 2) + 0) { print "line " NR ": " $j " became " $(j + 2); bad = 1 }
        }
      } END { exit bad }' || fail "--impute changed an observed cell or left a bad value (above)"
    ;;

  *)
    fail "unknown case"
    ;;
esac
echo "PASS [$case_name]"
