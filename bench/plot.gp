# bench/plot.gp — one bench figure from a bench/report .dat table: the
# first column the case (x axis), one column per variant, a header line
# of quoted names, "-" for a missing value. Variables (gnuplot -e):
#   data  the table          out   the file to write
#   term  png or svg         ttl   the title       ylab  the y label
#   logy  1 for a log y axis style 'bars' (clustered) or 'lines'
#   ncols columns in the table (the case and the variants)
if (term eq 'png') {
	set terminal pngcairo size 1280,720 enhanced font 'sans,11'
} else {
	set terminal svg size 1280,720 dynamic enhanced font 'sans,11'
}
set output out
set datafile missing '-'
set title ttl noenhanced
set ylabel ylab
set key outside right top noenhanced
set grid ytics
set xtics rotate by -25 noenhanced
set bmargin 8
if (logy) { set logscale y }
if (style eq 'bars') {
	set style data histograms
	set style histogram clustered gap 1
	set style fill solid 0.85 border -1
	set boxwidth 0.9
	if (!logy) { set yrange [0:*] }
	plot for [i=2:ncols] data using i:xtic(1) title columnhead(i)
} else {
	set yrange [0:*]
	plot for [i=2:ncols] data using 0:i:xtic(1) with linespoints lw 2 title columnhead(i)
}
