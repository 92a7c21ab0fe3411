"""The statistics that decide: what a verdict is, how it is tested, and how strong the test is.
Nothing here builds a sentence; numbers in a verdict's cell are written by cmnet.formats.

    stats        intervals over seeds, paired bootstraps, Fisher-z intervals of correlations
    verdicts     two variants on the same clips, the subject resampled: Δ, interval, p, smallest
                 detectable difference, Holm; the verdict words (holds, reversed, excluded, …)
    calibration  the A/A simulation: the test's false-positive rate where nothing differs, and power
    power        the edition's design from the first edition's variance components
    controls     does k follow the clip's intensity: ρ(k, truth) beside controls that read no image
    claims       the paper's claims (its numbers, results/paper_numbers.csv) judged by verdicts

What the book shows from these (sentences, tables, figures) is cmnet.report's.
"""
