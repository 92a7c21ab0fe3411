"""What the book shows: the words, tables and figures of the chapters, read from the studies'
artifacts and decided by cmnet.statistics (which never imports from here).

    prose, narrative, findings, summary, beyond, scope   sentences and page tables
    tables, status                                       fold artifacts read into tables; a study's progress
    plots, figstyle                                      figures, in the book's style
    paper                                                the papers' numbers beside ours
    chapters_data, crops, own_data                       what chapters 1–3 and 11 compute and draw
    analyses, dose, positive, plain, tuning              the chapters' own analyses (epoch selection, the
                                                         dose–response, the positive controls, the plain
                                                         classifier, the tuning study)
"""
