# figures.gp — the study's three figures from figures.sh's .dat tables.
# gnuplot -e "d='OUTDIR'; t='png'|'svg'" figures.gp
if (t eq 'png') {
	set terminal pngcairo size 1100,600 enhanced font 'sans,11'
} else {
	set terminal svg size 1100,600 dynamic enhanced font 'sans,11'
}
set datafile missing '-'
set key outside right top noenhanced
set grid ytics

# Figure 1: the seed's claim. Left axis: faults the MMU adds per CR3 load;
# right axis: modeled cycles relative to tdp.
set output d.'/fig-cr3.'.t
set title 'ctxswitch: flushing on every CR3 load (shadow-flush) vs caching shadow pages (shadow-cached)'
set xlabel 'address spaces (64 pages each)'
set ylabel 'hidden faults per CR3 load'
set y2label 'modeled cycles / tdp'
set logscale x 2
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
ncol = system("head -n 1 ".d."/fig-cr3.dat | awk -F '\" \"' '{ print NF }'")
half = (ncol - 1) / 2
plot for [i=2:1+half] d.'/fig-cr3.dat' using 1:i with linespoints lw 2 pt 7 title columnhead(i), \
     for [i=2+half:ncol] d.'/fig-cr3.dat' using 1:i axes x1y2 with linespoints lw 2 dt 2 pt 5 title columnhead(i)
unset logscale x
unset y2tics
unset y2label
unset xlabel
set ytics mirror

# Figure 2: MMU-intensive vs TLB-miss-intensive.
set output d.'/fig-mmu-vs-tlb.'.t
set title "tdp's gain over shadow paging (shadow cycles / tdp cycles - 1)"
set ylabel 'percent (> 0: tdp faster)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set xtics rotate by -20 noenhanced
set autoscale y
set yrange [*:*]
set bmargin 6
ncol = system("head -n 1 ".d."/fig-mmu-vs-tlb.dat | awk -F '\" \"' '{ print NF }'")
plot for [i=2:ncol] d.'/fig-mmu-vs-tlb.dat' using i:xtic(1) title columnhead(i), 0 notitle lc rgb 'black'

# Figure 3: the two-dimensional walk.
set output d.'/fig-walk.'.t
set title 'page-walk memory references per TLB miss (random access over 32 MiB)'
set ylabel 'references per miss'
set yrange [0:*]
set xtics rotate by -20
plot d.'/fig-walk.dat' using 2:xtic(1) title columnhead(2), '' using 3 title columnhead(3), \
     24 with lines dt 2 lc rgb 'black' title '24: cold 4-level x 4-level walk (Bhargava et al.)'
