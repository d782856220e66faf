package dev.aside.elasticsearch;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.lucene.document.Document;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.util.BytesRef;
import org.elasticsearch.common.bytes.BytesArray;
import org.elasticsearch.common.xcontent.XContentHelper;
import org.elasticsearch.common.xcontent.support.XContentMapValues;
import org.elasticsearch.search.rescore.RescoreContext;
import org.elasticsearch.search.rescore.Rescorer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Re-scores one shard's top window through Aside, blocking this search thread for the answer. */
final class AsideRescorer implements Rescorer {
    private static final Logger logger = LogManager.getLogger(AsideRescorer.class);

    private final AsideClient client;
    private final RerankOptions options;

    AsideRescorer(AsideClient client, RerankOptions options) {
        this.client = client;
        this.options = options;
    }

    @Override
    public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext ctx) throws IOException {
        int n = Math.min(ctx.getWindowSize(), topDocs.scoreDocs.length);
        if (n == 0) return topDocs;
        ScoreDoc[] window = Arrays.copyOf(topDocs.scoreDocs, n);
        Arrays.sort(window, (a, b) -> Float.compare(b.score, a.score));
        List<AsideDocument> texts = new ArrayList<>(n);
        float[] firstStage = new float[n];
        for (int i = 0; i < n; i++) {
            texts.add(textOf(searcher, window[i].doc));
            firstStage[i] = window[i].score;
        }
        float[] scores;
        try {
            scores = options.finalScores(client.rerankBlocking(options.query(), texts, options.task(), options.timeout()), firstStage);
        } catch (Exception e) {
            if (options.onFailure() == FailurePolicy.FAIL) {
                if (e instanceof RuntimeException r) throw r;
                throw new IOException(e);
            }
            logger.warn("aside rescorer: keeping the first stage's order because re-ranking failed: {}", e.getMessage());
            return topDocs;
        }
        Set<Integer> rescored = new HashSet<>();
        ScoreDoc[] out = new ScoreDoc[topDocs.scoreDocs.length];
        for (int i = 0; i < n; i++) {
            out[i] = new ScoreDoc(window[i].doc, scores[i], window[i].shardIndex);
            rescored.add(window[i].doc);
        }
        Arrays.sort(out, 0, n, Rescorer.SCORE_DOC_COMPARATOR);
        System.arraycopy(topDocs.scoreDocs, n, out, n, topDocs.scoreDocs.length - n);
        ctx.setRescoredDocs(rescored);
        return new TopDocs(topDocs.totalHits, out);
    }

    private AsideDocument textOf(IndexSearcher searcher, int doc) throws IOException {
        Document d = searcher.storedFields().document(doc, Set.of("_source"));
        BytesRef source = d.getBinaryValue("_source");
        if (source == null) return new AsideDocument(null, "");
        Map<String, Object> map = XContentHelper.convertToMap(new BytesArray(source), false, null).v2();
        return options.documentOf(f -> {
            Object v = XContentMapValues.extractValue(f, map);
            return v == null ? null : v instanceof List<?> l ? l : List.of(v);
        });
    }

    @Override
    public Explanation explain(int doc, IndexSearcher searcher, RescoreContext ctx, Explanation source) {
        return source;
    }
}
