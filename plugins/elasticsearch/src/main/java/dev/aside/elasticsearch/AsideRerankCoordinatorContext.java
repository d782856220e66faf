package dev.aside.elasticsearch;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.search.rank.context.RankFeaturePhaseRankCoordinatorContext;
import org.elasticsearch.search.rank.feature.RankFeatureDoc;

import java.util.ArrayList;
import java.util.List;

/**
 * Coordinating-node side: sends the merged window's texts to Aside's /v1/rerank in one request and
 * answers the phase's listener when Aside's answer arrives (the phase waits on the listener, not a thread).
 */
final class AsideRerankCoordinatorContext extends RankFeaturePhaseRankCoordinatorContext {
    private static final Logger logger = LogManager.getLogger(AsideRerankCoordinatorContext.class);

    private final AsideClient client;
    private final RerankOptions options;

    AsideRerankCoordinatorContext(int size, int from, int rankWindowSize, AsideClient client, RerankOptions options) {
        super(size, from, rankWindowSize, false);
        this.client = client;
        this.options = options;
    }

    @Override
    protected void computeScores(RankFeatureDoc[] docs, ActionListener<float[]> listener) {
        float[] firstStage = new float[docs.length];
        List<AsideDocument> texts = new ArrayList<>(docs.length);
        for (int i = 0; i < docs.length; i++) {
            firstStage[i] = docs[i].score;
            List<String> fd = docs[i].featureData;
            texts.add(fd == null || fd.isEmpty() ? new AsideDocument(null, "") : new AsideDocument(fd.size() > 1 ? fd.get(1) : null, fd.getFirst()));
        }
        if (docs.length == 0) {
            listener.onResponse(firstStage);
            return;
        }
        client.rerank(options.query(), texts, options.task(), options.timeout(), new ActionListener<>() {
            @Override
            public void onResponse(float[] raw) {
                listener.onResponse(options.finalScores(raw, firstStage));
            }

            @Override
            public void onFailure(Exception e) {
                if (options.onFailure() == FailurePolicy.KEEP_ORDER) {
                    logger.warn("aside_rerank: keeping the first stage's order because re-ranking failed: {}", e.getMessage());
                    listener.onResponse(firstStage);
                } else {
                    listener.onFailure(e);
                }
            }
        });
    }
}
