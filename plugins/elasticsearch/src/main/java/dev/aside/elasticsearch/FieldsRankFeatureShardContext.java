package dev.aside.elasticsearch;

import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.elasticsearch.common.document.DocumentField;
import org.elasticsearch.search.DocValueFormat;
import org.elasticsearch.search.SearchHit;
import org.elasticsearch.search.SearchHits;
import org.elasticsearch.search.fetch.subphase.FetchFieldsContext;
import org.elasticsearch.search.fetch.subphase.FieldAndFormat;
import org.elasticsearch.search.internal.SearchContext;
import org.elasticsearch.search.rank.RankShardResult;
import org.elasticsearch.search.rank.context.RankFeaturePhaseRankShardContext;
import org.elasticsearch.search.rank.feature.RankFeatureDoc;
import org.elasticsearch.search.rank.feature.RankFeatureShardResult;
import org.elasticsearch.search.sort.SortAndFormats;

import java.util.List;

/**
 * Shard side of the rank-feature phase: fetches the configured text fields of the shard's window hits
 * and hands each hit's joined text to the coordinating node (the built-in context reads one field only).
 */
final class FieldsRankFeatureShardContext extends RankFeaturePhaseRankShardContext {
    private final RerankOptions options;

    FieldsRankFeatureShardContext(RerankOptions options) {
        super(options.fields().getFirst());
        this.options = options;
    }

    @Override
    public void prepareForFetch(SearchContext context) {
        context.fetchFieldsContext(new FetchFieldsContext(options.fetchedFields().stream().map(f -> new FieldAndFormat(f, null)).toList()));
        // This fetch runs without the query phase's scores (hits would carry NaN). A score sort plus
        // track_scores makes the fetch score each hit with the same query, so the coordinating node gets
        // the first stage's scores for the blend and for keep_order.
        context.trackScores(true);
        if (context.sort() == null) {
            context.sort(new SortAndFormats(new Sort(SortField.FIELD_SCORE), new DocValueFormat[] { DocValueFormat.RAW }));
        }
    }

    @Override
    public RankShardResult buildRankFeatureShardResult(SearchHits hits, int shardId) {
        SearchHit[] h = hits.getHits();
        RankFeatureDoc[] docs = new RankFeatureDoc[h.length];
        for (int i = 0; i < h.length; i++) {
            SearchHit hit = h[i];
            docs[i] = new RankFeatureDoc(hit.docId(), hit.getScore(), shardId);
            AsideDocument doc = options.documentOf(f -> {
                DocumentField df = hit.field(f);
                return df == null ? null : df.getValues();
            });
            // featureData travels to the coordinating node: [text] or [text, title].
            docs[i].featureData(doc.title() == null ? List.of(doc.text()) : List.of(doc.text(), doc.title()));
        }
        return new RankFeatureShardResult(docs);
    }
}
